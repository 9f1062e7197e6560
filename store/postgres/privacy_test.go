package postgres_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/seal"
)

// The personal data of the privacy tests.
const (
	idNumber = "110101199003074578"
	mobile   = "13800138000"
	blobRef  = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	phash    = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

func testKeys(t testing.TB, b ...byte) *seal.Keys {
	t.Helper()
	var raw [][]byte
	for _, x := range b {
		raw = append(raw, bytes.Repeat([]byte{x}, seal.KeySize))
	}
	k, err := seal.New(raw[0], raw[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dump is every row of every table of the test's schema as text (to_jsonb:
// bytea as \x hex), the way a database dump or a stolen backup shows it.
func dump(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `select table_name from information_schema.tables
		where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := pool.Query(ctx, `select to_jsonb(t)::text from `+pgx.Identifier{table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			b.WriteString(table + " " + s + "\n")
		}
	}
	return b.String()
}

// assertNoPlaintext fails when the dump shows a personal value as text,
// hex (bytea) or base64.
func assertNoPlaintext(t *testing.T, dump string, values ...string) {
	t.Helper()
	for _, v := range values {
		for _, enc := range []string{v, hex.EncodeToString([]byte(v)), base64.StdEncoding.EncodeToString([]byte(v))[:len(v)]} {
			if i := strings.Index(dump, enc); i >= 0 {
				t.Errorf("the dump shows %q (as %q): …%s…", v, enc, dump[max(0, i-120):min(len(dump), i+60)])
			}
		}
	}
}

// recordCandidate records a candidate's turns holding an ID number and a
// mobile everywhere the record keeps what a candidate said or gave.
func recordCandidate(t *testing.T, pg *postgres.Store, user string) store.Identity {
	t.Helper()
	ctx := context.Background()
	id := store.Identity{Channel: "wechat", UserID: user}
	answers := map[string]any{"name": "张三", "id_number": idNumber, "mobile": mobile, "has_prior_cert": false}
	snapshot := []byte(`{"v":1,"step":"confirm","payment_url":"https://pay.example.com/p/1","answers":{"name":"张三","id_number":"` + idNumber + `","mobile":"` + mobile + `"}}`)
	turn := store.Turn{Identity: id, PlanID: "internet-marketing-l4", MsgID: user + "-1", Inbound: "身份证 " + idNumber,
		Answers: answers, Session: snapshot, At: time.Now(),
		Documents:   []store.Document{{Material: "photo", BlobRef: blobRef, PHash: phash, Size: 1, Width: 1, Height: 1, Format: "jpeg", Accepted: true}},
		Escalations: []store.Escalation{{Reason: "human", Text: "请打我电话 " + mobile, Code: "T1", Handover: true}}}
	if err := pg.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	next := store.Turn{Identity: id, PlanID: "internet-marketing-l4", MsgID: user + "-2", Inbound: "手机 " + mobile,
		Answers: answers, KeepAnswers: true, KeepWork: true, At: time.Now(),
		CandidateID: turn.CandidateID, ApplicationID: turn.ApplicationID, Seq: turn.Seq,
		Tickets: []store.TicketUpdate{{Code: "T1", Author: store.AuthorCandidate, Text: "我的身份证是 " + idNumber}}}
	if err := pg.RecordTurn(ctx, &next); err != nil {
		t.Fatal(err)
	}
	return id
}

// assertReadsBack checks that everything recorded by recordCandidate reads
// back in plain, and that the candidate is found by ID number and mobile.
func assertReadsBack(t *testing.T, pg *postgres.Store, id store.Identity) {
	t.Helper()
	ctx := context.Background()
	app, err := pg.Application(ctx, id, "internet-marketing-l4")
	if err != nil || app.Answers["id_number"] != idNumber || app.Answers["mobile"] != mobile || app.Answers["name"] != "张三" {
		t.Fatalf("answers %v, %v", app.Answers, err)
	}
	c, err := pg.Resume(ctx, id, "internet-marketing-l4")
	if err != nil || !bytes.Contains(c.Data, []byte(idNumber)) {
		t.Fatalf("snapshot %s, %v", c.Data, err)
	}
	msgs, err := pg.InboundMessages(ctx, id)
	if err != nil || len(msgs) == 0 || !strings.Contains(msgs[0].Text, idNumber) {
		t.Fatalf("inbound %+v, %v", msgs, err)
	}
	docs, err := pg.Documents(ctx, id, "internet-marketing-l4")
	if err != nil || len(docs) != 1 || docs[0].BlobRef != blobRef || docs[0].PHash != phash {
		t.Fatalf("documents %+v, %v", docs, err)
	}
	refs, err := pg.FindApplications(ctx, "internet-marketing-l4", store.LookupIDNumber, idNumber)
	if err != nil || len(refs) != 1 || refs[0].Identity != id || refs[0].CandidateID != app.CandidateID {
		t.Fatalf("status import's lookup by ID number: %+v, %v", refs, err)
	}
	refs, err = pg.FindApplications(ctx, "internet-marketing-l4", store.LookupMobile, mobile)
	if err != nil || len(refs) != 1 || refs[0].CandidateID != app.CandidateID {
		t.Fatalf("console's search by mobile: %+v, %v", refs, err)
	}
	if _, err := pg.FindApplications(ctx, "internet-marketing-l4", store.LookupMobile, "13900139000"); err == nil {
		t.Error("another mobile finds the candidate")
	}
	rec, err := pg.CandidateRecord(ctx, app.CandidateID, "internet-marketing-l4")
	if err != nil || !bytes.Contains(rec.Session, []byte(mobile)) || len(rec.Tickets) != 1 || !strings.Contains(rec.Tickets[0].Text, mobile) {
		t.Fatalf("candidate record: session %s, tickets %+v, %v", rec.Session, rec.Tickets, err)
	}
	// Broadcasts read the payment page from the (sealed) snapshot.
	audience, err := pg.Audience(ctx, "internet-marketing-l4", "name")
	if err != nil || len(audience) == 0 {
		t.Fatalf("audience %+v, %v", audience, err)
	}
	for _, m := range audience {
		if m.Identity == id && (m.PaymentURL != "https://pay.example.com/p/1" || m.Name != "张三") {
			t.Errorf("audience member %+v, want the snapshot's payment page and the name", m)
		}
	}
	_, tmsgs, err := pg.Ticket(ctx, rec.Tickets[0].ID, "name")
	if err != nil || len(tmsgs) != 2 || !strings.Contains(tmsgs[1].Text, idNumber) {
		t.Fatalf("ticket messages %+v, %v", tmsgs, err)
	}
}

// TestNoPlaintextPersonalDataInTheRecord: with a record key, a dump of every
// table holds no ID number, mobile, blob reference or perceptual hash in
// plain (nor as hex or base64), and the store reads everything back and
// still finds the candidate by ID number (status import) and mobile
// (console search).
func TestNoPlaintextPersonalDataInTheRecord(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	pg := postgres.New(pool, postgres.WithKeys(testKeys(t, 1)))
	id := recordCandidate(t, pg, "o-private")
	assertNoPlaintext(t, dump(t, pool), idNumber, mobile, blobRef, phash)
	assertReadsBack(t, pg, id)

	// Without the key nothing opens.
	bare := postgres.New(pool)
	if _, err := bare.Application(context.Background(), id, "internet-marketing-l4"); err == nil {
		t.Error("the answers open without the key")
	}
}

// TestResealTodaysData: a database written by today's code (version 12:
// plain answers, a jsonb session and a plain snapshot, plain messages,
// documents with their content hash) is migrated and resealed: the dump
// shows no personal data in plain, everything reads back, lookups work, a
// second Reseal changes nothing, and after a key rotation Reseal(all)
// moves every row to the new key.
func TestResealTodaysData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := poolAt(t, 12)
	// What today's code wrote: one candidate with a snapshot, one with the
	// jsonb session of before the turn protocol.
	for i, user := range []string{"o-today", "o-older"} {
		snapshot, session := `'{"v":1,"answers":{"id_number":"`+idNumber+`","mobile":"`+mobile+`"}}'::bytea`, `null`
		if i == 1 {
			snapshot, session = `null`, `'{"v":1,"answers":{"id_number":"`+idNumber+`","mobile":"`+mobile+`"}}'::jsonb`
		}
		_, err := pool.Exec(ctx, `
			with c as (insert into candidates (created_at) values (now()) returning id),
			i as (insert into identities (channel, user_id, candidate_id) select 'wechat', $1, id from c),
			a as (insert into applications (candidate_id, plan_id, answers, snapshot, session)
				select id, 'internet-marketing-l4', '{"name":"张三","id_number":"`+idNumber+`","mobile":"`+mobile+`"}', `+snapshot+`, `+session+` from c
				returning id, candidate_id),
			d as (insert into documents (application_id, material, blob_ref, sha256, size, width, height, format, accepted, created_at, phash)
				select id, 'photo', '`+blobRef+`', '`+blobRef+`', 1, 1, 1, 'jpeg', true, now(), '`+phash+`' from a),
			t as (insert into tickets (candidate_id, application_id, channel, user_id, reason)
				select candidate_id, id, 'wechat', $1, 'human' from a returning id),
			m as (insert into ticket_messages (ticket_id, author, text) select id, 'candidate', '电话 `+mobile+`' from t)
			insert into inbound_messages (candidate_id, channel, user_id, msg_id, text, at)
			select id, 'wechat', $1, '41', '身份证 `+idNumber+`', now() from c`, user)
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg := postgres.New(pool, postgres.WithKeys(testKeys(t, 1)))
	counts, err := pg.Reseal(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Applications != 2 || counts.Inbound != 2 || counts.TicketMessages != 2 || counts.Documents < 2 {
		t.Errorf("resealed %+v", counts)
	}
	assertNoPlaintext(t, dump(t, pool), idNumber, mobile, blobRef, phash)
	for _, user := range []string{"o-today", "o-older"} {
		id := store.Identity{Channel: "wechat", UserID: user}
		app, err := pg.Application(ctx, id, "internet-marketing-l4")
		if err != nil || app.Answers["id_number"] != idNumber {
			t.Fatalf("%s: answers %v, %v", user, app.Answers, err)
		}
		c, err := pg.Resume(ctx, id, "internet-marketing-l4")
		if err != nil || !bytes.Contains(c.Data, []byte(mobile)) {
			t.Fatalf("%s: snapshot %s, %v", user, c.Data, err)
		}
	}
	refs, err := pg.FindApplications(ctx, "internet-marketing-l4", store.LookupIDNumber, idNumber)
	if err != nil || len(refs) != 2 {
		t.Fatalf("lookup by ID number after the reseal: %+v, %v", refs, err)
	}
	if again, err := pg.Reseal(ctx, false); err != nil || again != (postgres.ResealCounts{}) {
		t.Errorf("a second reseal: %+v, %v; want nothing to do", again, err)
	}

	// Rotation: key 2 seals, key 1 still opens; Reseal(all) moves every
	// row to key 2, after which key 2 alone reads everything.
	rotated := postgres.New(pool, postgres.WithKeys(testKeys(t, 2, 1)))
	if refs, err := rotated.FindApplications(ctx, "internet-marketing-l4", store.LookupMobile, mobile); err != nil || len(refs) != 2 {
		t.Fatalf("lookup by mobile before the rotation's reseal: %+v, %v", refs, err)
	}
	if _, err := rotated.Reseal(ctx, true); err != nil {
		t.Fatal(err)
	}
	only2 := postgres.New(pool, postgres.WithKeys(testKeys(t, 2)))
	for _, user := range []string{"o-today", "o-older"} {
		id := store.Identity{Channel: "wechat", UserID: user}
		if app, err := only2.Application(ctx, id, "internet-marketing-l4"); err != nil || app.Answers["mobile"] != mobile {
			t.Fatalf("%s after the rotation: %v, %v", user, app.Answers, err)
		}
		if msgs, err := only2.InboundMessages(ctx, id); err != nil || !strings.Contains(msgs[0].Text, idNumber) {
			t.Fatalf("%s messages after the rotation: %+v, %v", user, msgs, err)
		}
		if docs, err := only2.Documents(ctx, id, "internet-marketing-l4"); err != nil || docs[0].BlobRef != blobRef {
			t.Fatalf("%s documents after the rotation: %+v, %v", user, docs, err)
		}
	}
	if refs, err := only2.FindApplications(ctx, "internet-marketing-l4", store.LookupMobile, mobile); err != nil || len(refs) != 2 {
		t.Fatalf("lookup by mobile after the rotation: %+v, %v", refs, err)
	}
	assertNoPlaintext(t, dump(t, pool), idNumber, mobile, blobRef, phash)
}

// TestResealPagesThroughGroups: Reseal walks the log tables by their keys
// (candidate or ticket, then id; migration 019), a page at a time. With
// pages of two rows and the messages of three candidates interleaved (so
// that id order is not key order), every row is sealed once and none is
// skipped at a page boundary.
func TestResealPagesThroughGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	// Plain rows as written before the record was sealed: candidates 1-3
	// with a ticket each, then 7 rounds of a message from each in turn.
	if _, err := pool.Exec(ctx, `
		with c as (insert into candidates (created_at) select now() from generate_series(1, 3) returning id),
		i as (insert into identities (channel, user_id, candidate_id) select 'wechat', 'o-page-' || id, id from c),
		t as (insert into tickets (candidate_id, channel, user_id, reason)
			select id, 'wechat', 'o-page-' || id, 'human' from c returning id)
		insert into ticket_messages (ticket_id, author, text)
		select t.id, 'candidate', '电话 `+mobile+`' from t, generate_series(1, 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		insert into inbound_messages (candidate_id, channel, user_id, msg_id, text, at)
		select c.id, 'wechat', 'o-page-' || c.id, r || '-' || c.id, '身份证 `+idNumber+`', now()
		from generate_series(1, 7) r, (select id from candidates order by id) c
		order by r, c.id`); err != nil {
		t.Fatal(err)
	}
	pg := postgres.New(pool, postgres.WithKeys(testKeys(t, 1)), postgres.WithResealPage(2))
	counts, err := pg.Reseal(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Inbound != 21 || counts.TicketMessages != 9 {
		t.Errorf("resealed %+v, want 21 messages and 9 ticket messages", counts)
	}
	assertNoPlaintext(t, dump(t, pool), idNumber, mobile)
	if again, err := pg.Reseal(ctx, false); err != nil || again != (postgres.ResealCounts{}) {
		t.Errorf("a second reseal: %+v, %v; want nothing to do", again, err)
	}
}
