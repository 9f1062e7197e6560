package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestMigrateKeepsTodaysData: a database at version 8 (before the turn
// protocol) holding a candidate mid-conversation, as the code of that time
// wrote it, migrates to the latest version, and the candidate's turns go
// on: the old jsonb session is the snapshot, seq starts at 1, new turns
// are guarded and recorded, the old message stays a duplicate.
func TestMigrateKeepsTodaysData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := poolAt(t, 8)
	// What the version-3 code wrote for a candidate's first turns.
	_, err := pool.Exec(ctx, `
		with c as (insert into candidates (created_at) values (now()) returning id),
		i as (insert into identities (channel, user_id, candidate_id) select 'wechat', 'o-old', id from c),
		a as (insert into applications (candidate_id, plan_id, condition, status, answers, session)
			select id, 'internet-marketing-l4', '', 'collecting', '{"has_prior_cert": true}', '{"v":1,"step":"prior_cert_date","answers":{"has_prior_cert":true}}' from c
			returning id),
		e as (insert into status_events (application_id, to_status, actor) select id, 'collecting', 'bot' from a)
		insert into inbound_messages (candidate_id, channel, user_id, msg_id, text, at)
		select id, 'wechat', 'o-old', '41', '是', now() from c`)
	if err != nil {
		t.Fatal(err)
	}
	if from, to, err := postgres.Migrate(ctx, pool); err != nil || from != 8 || to < 9 {
		t.Fatalf("migrate 8 → latest: %d → %d, %v", from, to, err)
	}
	pg := postgres.New(pool)
	id := store.Identity{Channel: "wechat", UserID: "o-old"}
	c, err := pg.Resume(ctx, id, "internet-marketing-l4")
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != 1 || c.ApplicationID == 0 || !jsonEq(c.Data, `{"v":1,"step":"prior_cert_date","answers":{"has_prior_cert":true}}`) {
		t.Fatalf("resumed %+v (data %s), want seq 1 and the old jsonb session", c, c.Data)
	}
	turn := store.Turn{Identity: id, PlanID: "internet-marketing-l4", MsgID: "42", Inbound: "2019-05",
		Session: []byte(`{"v":1,"step":"next"}`), Answers: map[string]any{"has_prior_cert": true, "prior_cert_date": "2019-05"},
		CandidateID: c.CandidateID, ApplicationID: c.ApplicationID, Seq: c.Seq}
	if err := pg.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	if snap, err := pg.LatestSession(ctx, id); err != nil || string(snap) != `{"v":1,"step":"next"}` {
		t.Fatalf("snapshot after the first new turn: %s %v", snap, err)
	}
	old := store.Turn{Identity: id, PlanID: "internet-marketing-l4", MsgID: "41", Inbound: "是",
		CandidateID: c.CandidateID, ApplicationID: c.ApplicationID, Seq: turn.Seq}
	if err := pg.RecordTurn(ctx, &old); err == nil {
		t.Fatal("the message recorded before the migration was recorded again")
	}
	if reply, _, err := pg.Reply(ctx, id, "41"); err != nil || reply != nil {
		t.Fatalf("reply of a message recorded before replies were kept: %q %v, want none", reply, err)
	}
}

func jsonEq(got []byte, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// TestCandidateRecordHasTheSnapshot: the console's candidate record reads
// the session snapshot where turns write it (applications.snapshot since
// migration 009).
func TestCandidateRecordHasTheSnapshot(t *testing.T) {
	t.Parallel()
	pg := newStore(t)
	ctx := context.Background()
	turn := store.Turn{Identity: store.Identity{Channel: "wechat", UserID: "o-snap"}, PlanID: "p", MsgID: "1", Inbound: "你好",
		Session: []byte(`{"v":1,"step":"x"}`), Fresh: true}
	if err := pg.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	rec, err := pg.CandidateRecord(ctx, turn.CandidateID, "p")
	if err != nil || string(rec.Session) != `{"v":1,"step":"x"}` {
		t.Fatalf("candidate record session %q, %v; want the turn's snapshot", rec.Session, err)
	}
}

// TestMigrateDownAndUp: the migrations of the turn's hot path (016-018) go
// back to version 15 keeping what they mean, and forward again. Going
// back, a mark a later message ended is cleared (version 15 cleared marks
// on each message) and a live one stays; the closed lists are table CHECK
// constraints again, and a value outside them is refused before and after.
func TestMigrateDownAndUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	_, latest, err := postgres.Migrate(ctx, pool)
	if err != nil || latest < 18 {
		t.Fatalf("migrate: %d %v", latest, err)
	}
	pg := postgres.New(pool)
	ended, live := store.Identity{Channel: "telegram", UserID: "1001"}, store.Identity{Channel: "telegram", UserID: "1002"}
	for _, id := range []store.Identity{ended, live} {
		turn := store.Turn{Identity: id, PlanID: "p", MsgID: "1", Inbound: "你好", Session: []byte(`{}`), Fresh: true}
		if err := pg.RecordTurn(ctx, &turn); err != nil {
			t.Fatal(err)
		}
		if err := pg.MarkUnreachable(ctx, id); err != nil {
			t.Fatal(err)
		}
		if id == ended {
			turn.MsgID, turn.At = "2", time.Now()
			if err := pg.RecordTurn(ctx, &turn); err != nil {
				t.Fatal(err)
			}
		}
	}
	// refused checks that the list's own rule refuses a value outside it
	// (a CHECK violation of that rule, not the status guard's trigger).
	refused := func(when string, rules map[string]string) {
		t.Helper()
		for q, rule := range map[string]string{
			// An insert: the guard's trigger runs after the row's checks.
			`insert into applications (candidate_id, plan_id, status)
				select candidate_id, 'another-plan', 'nonsense' from applications limit 1`: rules["status"],
			`update inbound_messages set kind = 'nonsense'`: rules["kind"],
		} {
			var pgErr *pgconn.PgError
			_, err := pool.Exec(ctx, q)
			if !errors.As(err, &pgErr) || pgErr.Code != "23514" || pgErr.ConstraintName != rule {
				t.Errorf("%s: %q: %v, want a violation of %s", when, q, err, rule)
			}
		}
	}
	domains := map[string]string{"status": "application_status_check", "kind": "inbound_kind_check"}
	checks := map[string]string{"status": "applications_status_check", "kind": "inbound_messages_kind_check"}
	refused("at the latest version", domains)

	if _, to, err := postgres.MigrateTo(ctx, pool, 15); err != nil || to != 15 {
		t.Fatalf("migrate down to 15: %d %v", to, err)
	}
	for id, want := range map[store.Identity]bool{ended: false, live: true} {
		var marked bool
		if err := pool.QueryRow(ctx, `select unreachable_at is not null from identities where channel = $1 and user_id = $2`,
			id.Channel, id.UserID).Scan(&marked); err != nil || marked != want {
			t.Errorf("version 15, identity %s: marked %v (%v), want %v", id.UserID, marked, err, want)
		}
	}
	refused("at version 15", checks)

	if from, to, err := postgres.Migrate(ctx, pool); err != nil || from != 15 || to != latest {
		t.Fatalf("migrate 15 → latest: %d → %d, %v", from, to, err)
	}
	for id, want := range map[store.Identity]bool{ended: false, live: true} {
		if u, err := pg.Unreachable(ctx, id); err != nil || u != want {
			t.Errorf("back at the latest version, identity %s: unreachable %v (%v), want %v", id.UserID, u, err, want)
		}
	}
	refused("back at the latest version", domains)
}

// TestMigrateLogKeys: a database at version 18 holding two candidates'
// interleaved messages and a ticket thread migrates to the latest version
// (019: the log tables keyed by their group), and the data reads as before:
// each candidate's messages and the thread in the order recorded, a
// recorded message id still a duplicate, new messages after the old ones.
// Down to 18 and up again keeps them too.
func TestMigrateLogKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := poolAt(t, 18)
	pg := postgres.New(pool)
	a, b := store.Identity{Channel: "wechat", UserID: "o-a"}, store.Identity{Channel: "telegram", UserID: "77"}
	turns := map[store.Identity]*store.Turn{}
	for i, id := range []store.Identity{a, b, a, b, a} {
		turn := turns[id]
		if turn == nil {
			turn = &store.Turn{Identity: id, PlanID: "p", Session: []byte(`{}`), Fresh: true}
			turns[id] = turn
		}
		turn.MsgID, turn.Inbound, turn.At = fmt.Sprint(100+i), fmt.Sprint("消息", i), time.Now()
		if err := pg.RecordTurn(ctx, turn); err != nil {
			t.Fatal(err)
		}
	}
	var ticket int64
	if err := pool.QueryRow(ctx, `
		with t as (insert into tickets (candidate_id, channel, user_id, reason)
			values ($1, 'wechat', 'o-a', 'asked_for_staff') returning id),
		m as (insert into ticket_messages (ticket_id, author, text)
			select id, 'candidate', x from t, unnest(array['一', '二', '三']) with ordinality as u(x, n) order by n)
		select id from t`, turns[a].CandidateID).Scan(&ticket); err != nil {
		t.Fatal(err)
	}

	wantA := []string{"100", "102", "104"}
	check := func(when string) {
		t.Helper()
		for id, want := range map[store.Identity][]string{a: wantA, b: {"101", "103"}} {
			msgs, err := pg.InboundMessages(ctx, id)
			var got []string
			for _, m := range msgs {
				got = append(got, m.MsgID)
			}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: messages of %s: %v (%v), want %v", when, id.UserID, got, err, want)
			}
		}
		_, thread, err := pg.Ticket(ctx, ticket, "")
		var got []string
		for _, m := range thread {
			got = append(got, m.Text)
		}
		if err != nil || !reflect.DeepEqual(got, []string{"一", "二", "三"}) {
			t.Errorf("%s: ticket thread %v (%v), want 一 二 三", when, got, err)
		}
		again := *turns[b]
		again.MsgID = "101"
		if err := pg.RecordTurn(ctx, &again); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: message 101 recorded again: %v, want store.ErrConflict", when, err)
		}
	}
	keys := func() map[string]string {
		rows, err := pool.Query(ctx, `
			select c.relname, string_agg(a.attname, ',' order by k.n)
			from pg_index i join pg_class c on c.oid = i.indexrelid
			cross join unnest(i.indkey) with ordinality as k(attnum, n)
			join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
			where i.indrelid in ('inbound_messages'::regclass, 'ticket_messages'::regclass)
			group by c.relname`)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for rows.Next() {
			var name, cols string
			if err := rows.Scan(&name, &cols); err != nil {
				t.Fatal(err)
			}
			m[name] = cols
		}
		return m
	}
	check("at version 18")

	_, latest, err := postgres.Migrate(ctx, pool)
	if err != nil || latest < 19 {
		t.Fatalf("migrate 18 → latest: %d %v", latest, err)
	}
	want := map[string]string{
		"inbound_messages_pkey": "candidate_id,id",
		"inbound_messages_msg":  "channel,user_id,msg_id",
		"ticket_messages_pkey":  "ticket_id,id",
	}
	if got := keys(); !reflect.DeepEqual(got, want) {
		t.Errorf("indexes at the latest version: %v, want %v", got, want)
	}
	check("at the latest version")
	turn := turns[a]
	turn.MsgID, turn.Inbound = "200", "新消息"
	if err := pg.RecordTurn(ctx, turn); err != nil {
		t.Fatal(err)
	}
	wantA = append(wantA, "200")
	check("after a new turn")

	if _, to, err := postgres.MigrateTo(ctx, pool, 18); err != nil || to != 18 {
		t.Fatalf("migrate down to 18: %d %v", to, err)
	}
	check("down at version 18")
	if got := keys()["inbound_messages_pkey"]; got != "id" {
		t.Errorf("inbound_messages_pkey at version 18: %s, want id", got)
	}
	if _, to, err := postgres.Migrate(ctx, pool); err != nil || to != latest {
		t.Fatalf("migrate 18 → latest again: %d %v", to, err)
	}
	check("back at the latest version")
}
