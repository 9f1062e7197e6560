package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"regbot/store"
)

// ConsoleStore is the record as the staff console uses it (admin.Store),
// with the turns that fill it.
type ConsoleStore interface {
	RecordTurn(ctx context.Context, t *store.Turn) error
	Documents(ctx context.Context, id store.Identity, planID string) ([]store.DocumentRecord, error)

	CreateStaffUser(ctx context.Context, u store.StaffUser) (store.StaffUser, error)
	StaffUserByLogin(ctx context.Context, login string) (store.StaffUser, error)
	StaffUser(ctx context.Context, id int64) (store.StaffUser, error)
	SetStaffPassword(ctx context.Context, id int64, hash string, at time.Time) error
	SetStaffDisabled(ctx context.Context, id int64, disabled bool, at time.Time) error
	RecordLoginFailure(ctx context.Context, id int64, lockAfter int, at time.Time) (bool, error)

	CreateStaffSession(ctx context.Context, s store.StaffSession) error
	StaffSession(ctx context.Context, id string) (store.StaffSession, store.StaffUser, error)
	TouchStaffSession(ctx context.Context, id string, at time.Time) error
	DeleteExpiredStaffSessions(ctx context.Context, now, idleSince time.Time) (int64, error)

	AppendAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)

	CandidateList(ctx context.Context, f store.CandidateFilter) ([]store.CandidateRow, int, error)
	FindApplications(ctx context.Context, planID string, key store.LookupKey, value string) ([]store.ApplicationRef, error)
	CandidateRecord(ctx context.Context, candidateID int64, planID string) (store.CandidateRecord, error)
	Dashboard(ctx context.Context, planID string, days int, loc *time.Location, now time.Time) (store.Dashboard, error)

	TicketInbox(ctx context.Context, f store.TicketFilter, nameKey string) ([]store.Ticket, error)
	Ticket(ctx context.Context, id int64, nameKey string) (store.Ticket, []store.TicketMessage, error)
	ClaimTicket(ctx context.Context, id, staffID int64, takeOver bool, at time.Time) error

	CandidateDocument(ctx context.Context, candidateID, documentID int64) (store.DocumentRecord, error)
	ReviewDocument(ctx context.Context, candidateID int64, r store.DocumentReview) error
}

// RunConsole runs the console's conformance suite; newStore builds a fresh,
// isolated record for one subtest. Subtests run in parallel.
func RunConsole(t *testing.T, newStore func(t *testing.T) ConsoleStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s ConsoleStore)
	}{
		{"AccountsAndLockOut", testConsoleAccounts},
		{"SessionsAndAudit", testConsoleSessionsAndAudit},
		{"TicketsThroughTurns", testConsoleTickets},
		{"CandidateList", testConsoleCandidateList},
		{"Dashboard", testConsoleDashboard},
		{"DocumentReview", testConsoleDocumentReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

func testConsoleAccounts(t *testing.T, pg ConsoleStore) {
	ctx := ctxFor(t)
	u, err := pg.CreateStaffUser(ctx, store.StaffUser{Login: "li", DisplayName: "李老师", Role: store.RoleStaff, PasswordHash: "h1"})
	if err != nil || u.ID == 0 || u.Role != store.RoleStaff || !u.Active() {
		t.Fatalf("create: %+v, %v", u, err)
	}
	if _, err := pg.CreateStaffUser(ctx, store.StaffUser{Login: "li", DisplayName: "x", Role: store.RoleAdmin}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second account with the same login: err = %v, want store.ErrConflict", err)
	}
	if _, err := pg.StaffUserByLogin(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown login: err = %v, want store.ErrNotFound", err)
	}
	now := time.Now()
	for i := 1; i <= 10; i++ {
		locked, err := pg.RecordLoginFailure(ctx, u.ID, 10, now)
		if err != nil {
			t.Fatal(err)
		}
		if locked != (i == 10) {
			t.Fatalf("after %d wrong passwords: locked = %v", i, locked)
		}
	}
	got, err := pg.StaffUserByLogin(ctx, "li")
	if err != nil || got.LockedAt.IsZero() || got.FailedLogins != 10 || got.Active() {
		t.Fatalf("after the lock-out: %+v, %v", got, err)
	}
	// A new password unlocks the account and ends its sessions.
	sess := store.StaffSession{ID: strings.Repeat("a", 64), UserID: u.ID, CSRF: "c", CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := pg.CreateStaffSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := pg.SetStaffPassword(ctx, u.ID, "h2", now); err != nil {
		t.Fatal(err)
	}
	got, _ = pg.StaffUser(ctx, u.ID)
	if !got.Active() || got.PasswordHash != "h2" || got.FailedLogins != 0 {
		t.Fatalf("after a new password: %+v", got)
	}
	if _, _, err := pg.StaffSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after a password change: err = %v, want store.ErrNotFound", err)
	}
	if err := pg.SetStaffPassword(ctx, 999999, "h", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("password of an unknown account: err = %v", err)
	}
}

func testConsoleSessionsAndAudit(t *testing.T, pg ConsoleStore) {
	ctx := ctxFor(t)
	u, err := pg.CreateStaffUser(ctx, store.StaffUser{Login: "wang", DisplayName: "王", Role: store.RoleAdmin, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Microsecond)
	sess := store.StaffSession{ID: strings.Repeat("b", 64), UserID: u.ID, CSRF: "tok", CreatedAt: now, SeenAt: now,
		ExpiresAt: now.Add(8 * time.Hour), Address: "192.0.2.1", UserAgent: "test"}
	if err := pg.CreateStaffSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, user, err := pg.StaffSession(ctx, sess.ID)
	if err != nil || got.CSRF != "tok" || user.Login != "wang" || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("session: %+v %+v %v", got, user, err)
	}
	if err := pg.TouchStaffSession(ctx, sess.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := pg.DeleteExpiredStaffSessions(ctx, now, now.Add(-time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("expired sessions deleted: %d, %v; want none", n, err)
	}
	n, err = pg.DeleteExpiredStaffSessions(ctx, now.Add(9*time.Hour), now)
	if err != nil || n != 1 {
		t.Fatalf("expired sessions deleted: %d, %v; want 1", n, err)
	}
	// Disabling an account ends its sessions.
	if err := pg.CreateStaffSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := pg.SetStaffDisabled(ctx, u.ID, true, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pg.StaffSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a disabled account: err = %v", err)
	}
	for _, e := range []store.AuditEntry{
		{UserID: u.ID, Login: "wang", Action: "signin", Address: "192.0.2.1"},
		{Login: "ghost", Action: "signin.failed", Address: "192.0.2.9"},
		{UserID: u.ID, Login: "wang", Action: "ticket.reply", Target: "ticket:3"},
	} {
		if err := pg.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := pg.AuditLog(ctx, store.AuditFilter{})
	if err != nil || len(all) != 3 || all[0].Action != "ticket.reply" || all[1].UserID != 0 || all[1].Login != "ghost" {
		t.Fatalf("audit log: %+v, %v", all, err)
	}
	mine, _ := pg.AuditLog(ctx, store.AuditFilter{UserID: u.ID, Before: all[0].ID})
	if len(mine) != 1 || mine[0].Action != "signin" {
		t.Fatalf("audit log of the user before the newest: %+v", mine)
	}
}

func testConsoleTickets(t *testing.T, pg ConsoleStore) {
	ctx := ctxFor(t)
	id := store.Identity{Channel: "wechat", UserID: "o-ticket"}
	turn := func(msgID string, mod func(*store.Turn)) {
		t.Helper()
		tr := store.Turn{Identity: id, PlanID: "p", MsgID: msgID, Inbound: msgID,
			Answers: map[string]any{"name": "张三", "mobile": "13800138000"}, At: time.Now()}
		mod(&tr)
		if err := pg.RecordTurn(ctx, &tr); err != nil {
			t.Fatal(err)
		}
	}
	turn("m1", func(tr *store.Turn) {
		tr.Escalations = []store.Escalation{{Reason: "requested", Text: "转人工", Code: "K7Q3MD", Handover: true}}
	})
	turn("m2", func(tr *store.Turn) {
		tr.Tickets = []store.TicketUpdate{{Code: "K7Q3MD", Author: store.AuthorCandidate, Text: "你好，有人吗？"}}
	})
	inbox, err := pg.TicketInbox(ctx, store.TicketFilter{PlanID: "p"}, "name")
	if err != nil || len(inbox) != 1 {
		t.Fatalf("inbox: %+v, %v", inbox, err)
	}
	tk := inbox[0]
	if tk.Code != "K7Q3MD" || !tk.Handover || tk.State != store.TicketOpen || tk.Name != "张三" || tk.Text != "转人工" {
		t.Fatalf("ticket: %+v", tk)
	}
	waitingSince := tk.StateSince
	staff, err := pg.CreateStaffUser(ctx, store.StaffUser{Login: "zhao", DisplayName: "赵", Role: store.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := pg.CreateStaffUser(ctx, store.StaffUser{Login: "qian", DisplayName: "钱", Role: store.RoleStaff})
	if err := pg.ClaimTicket(ctx, tk.ID, staff.ID, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := pg.ClaimTicket(ctx, tk.ID, other.ID, false, time.Now()); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claim of a claimed ticket: err = %v, want store.ErrConflict", err)
	}
	turn("m3", func(tr *store.Turn) {
		tr.Tickets = []store.TicketUpdate{{Code: "K7Q3MD", Author: store.AuthorCandidate, ImageRef: "abc"}}
	})
	got, msgs, err := pg.Ticket(ctx, tk.ID, "name")
	if err != nil || got.AssigneeLogin != "zhao" || !got.StateSince.Equal(waitingSince) || len(msgs) != 3 || msgs[2].ImageRef != "abc" {
		t.Fatalf("ticket after a claim and a second message: %+v %+v %v", got, msgs, err)
	}
	turn("staff-1", func(tr *store.Turn) {
		tr.Tickets = []store.TicketUpdate{{Code: "K7Q3MD", Author: store.AuthorStaff, StaffID: staff.ID, Text: "您好，请讲。"}}
	})
	got, msgs, _ = pg.Ticket(ctx, tk.ID, "name")
	if got.State != store.TicketAnswered || msgs[3].StaffLogin != "zhao" {
		t.Fatalf("after a staff reply: %+v %+v", got, msgs)
	}
	turn("staff-2", func(tr *store.Turn) {
		tr.Tickets = []store.TicketUpdate{{Code: "K7Q3MD", Author: store.AuthorStaff, StaffID: staff.ID, Close: true, ClosedBy: "staff:1"}}
	})
	got, _, _ = pg.Ticket(ctx, tk.ID, "name")
	if got.State != store.TicketClosed || got.ClosedAt.IsZero() || got.ClosedBy != "staff:1" {
		t.Fatalf("after close: %+v", got)
	}
	if err := pg.ClaimTicket(ctx, tk.ID, staff.ID, true, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim of a closed ticket: err = %v, want store.ErrNotFound", err)
	}
	// A message for a closed ticket is not added to it.
	turn("m4", func(tr *store.Turn) {
		tr.Tickets = []store.TicketUpdate{{Code: "K7Q3MD", Author: store.AuthorCandidate, Text: "还在吗"}}
	})
	if _, msgs, _ := pg.Ticket(ctx, tk.ID, "name"); len(msgs) != 4 {
		t.Fatalf("a closed ticket took a message: %+v", msgs)
	}
	inbox, _ = pg.TicketInbox(ctx, store.TicketFilter{PlanID: "p"}, "name")
	if len(inbox) != 0 {
		t.Fatalf("inbox after close: %+v", inbox)
	}
}

// seedCandidates records applications for the list and dashboard tests.
func seedCandidates(t *testing.T, pg ConsoleStore) {
	t.Helper()
	ctx := ctxFor(t)
	rows := []struct {
		user, name, mobile, condition string
		status                        store.Status
		escalate                      bool
	}{
		{"w1", "张三", "13800000001", "C2", store.StatusCollecting, true},
		{"w2", "李四", "13800000002", "C2", store.StatusMaterialsReady, false},
		{"w3", "王五_50%", "13800000003", "", store.StatusCollecting, false},
	}
	for i, r := range rows {
		id := store.Identity{Channel: "wechat", UserID: r.user}
		if i == 2 {
			id.Channel = "telegram"
		}
		tr := store.Turn{Identity: id, PlanID: "p", MsgID: "m", Condition: r.condition,
			Answers: map[string]any{"name": r.name, "mobile": r.mobile}, At: time.Now()}
		if err := pg.RecordTurn(ctx, &tr); err != nil {
			t.Fatal(err)
		}
		if r.status != store.StatusCollecting || r.escalate {
			tr.MsgID, tr.Status = "m2", r.status
			if r.escalate {
				tr.Escalations = []store.Escalation{{Reason: "requested", Code: "C" + r.user, Handover: true}}
			}
			if err := pg.RecordTurn(ctx, &tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func testConsoleCandidateList(t *testing.T, pg ConsoleStore) {
	ctx := ctxFor(t)
	seedCandidates(t, pg)
	names := func(f store.CandidateFilter) ([]string, int) {
		t.Helper()
		f.PlanID, f.TextKeys = "p", []string{"name"}
		list, total, err := pg.CandidateList(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range list {
			out = append(out, c.Answers["name"].(string))
		}
		return out, total
	}
	refs, err := pg.FindApplications(ctx, "p", store.LookupMobile, "13800000002")
	if err != nil || len(refs) != 1 || refs[0].CandidateID == 0 {
		t.Fatalf("by mobile: %+v, %v", refs, err)
	}
	ids := []int64{refs[0].CandidateID}
	if none, err := pg.FindApplications(ctx, "p", store.LookupMobile, "13900000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("by an unknown mobile: %#v, %v; want store.ErrNotFound", none, err)
	}
	tests := []struct {
		name  string
		f     store.CandidateFilter
		want  string
		total int
	}{
		{"all, newest first", store.CandidateFilter{}, "王五_50%,李四,张三", 3},
		{"status", store.CandidateFilter{Status: store.StatusMaterialsReady}, "李四", 1},
		{"condition", store.CandidateFilter{Condition: "C2"}, "李四,张三", 2},
		{"no condition", store.CandidateFilter{Condition: "-"}, "王五_50%", 1},
		{"channel", store.CandidateFilter{Channel: "telegram"}, "王五_50%", 1},
		{"waiting for staff", store.CandidateFilter{Waiting: true}, "张三", 1},
		{"name substring", store.CandidateFilter{Text: "四"}, "李四", 1},
		{"LIKE wildcards match themselves", store.CandidateFilter{Text: "_50%"}, "王五_50%", 1},
		{"a wildcard alone matches no other name", store.CandidateFilter{Text: "%"}, "王五_50%", 1},
		{"contact lookup", store.CandidateFilter{Candidates: ids}, "李四", 1},
		{"contact lookup found nobody", store.CandidateFilter{Candidates: []int64{}}, "", 0},
		{"updated since the future", store.CandidateFilter{UpdatedSince: time.Now().Add(time.Hour)}, "", 0},
		{"paging", store.CandidateFilter{Offset: 1, Limit: 1}, "李四", 3},
	}
	for _, tt := range tests {
		got, total := names(tt.f)
		if strings.Join(got, ",") != tt.want || total != tt.total {
			t.Errorf("%s: got %v (total %d), want %s (total %d)", tt.name, got, total, tt.want, tt.total)
		}
	}
	list, _, _ := pg.CandidateList(ctx, store.CandidateFilter{PlanID: "p", Channel: "telegram"})
	rec, err := pg.CandidateRecord(ctx, list[0].CandidateID, "p")
	if err != nil || rec.Application.Answers["name"] != "王五_50%" || len(rec.Identities) != 1 || len(rec.Inbound) != 1 || len(rec.Events) != 1 {
		t.Fatalf("candidate record: %+v, %v", rec, err)
	}
	if _, err := pg.CandidateRecord(ctx, list[0].CandidateID, "other-plan"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("record of another plan: err = %v", err)
	}
}

func testConsoleDashboard(t *testing.T, pg ConsoleStore) {
	ctx := ctxFor(t)
	seedCandidates(t, pg)
	loc := time.FixedZone("CST", 8*3600)
	d, err := pg.Dashboard(ctx, "p", 7, loc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.Applications != 3 || d.ByStatus[store.StatusCollecting] != 2 || d.ByStatus[store.StatusMaterialsReady] != 1 ||
		d.ByCondition["C2"] != 2 || d.ByCondition[""] != 1 {
		t.Errorf("counts: %+v", d)
	}
	if d.Reached[store.StatusCollecting] != 3 || d.Reached[store.StatusMaterialsReady] != 1 {
		t.Errorf("funnel: %+v", d.Reached)
	}
	if d.TicketsWaiting != 1 || d.OldestWaiting.IsZero() {
		t.Errorf("tickets waiting: %d since %v", d.TicketsWaiting, d.OldestWaiting)
	}
	if len(d.PerDay) != 7 || d.PerDay[6].N != 3 || d.PerDay[0].N != 0 || d.PerDay[6].Day.Format(time.DateOnly) != time.Now().In(loc).Format(time.DateOnly) {
		t.Errorf("per day: %+v", d.PerDay)
	}
}

func testConsoleDocumentReview(t *testing.T, pg ConsoleStore) {
	ctx := ctxFor(t)
	id := store.Identity{Channel: "web", UserID: "doc"}
	err := pg.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: "p", MsgID: "m", At: time.Now(),
		Documents: []store.Document{{Material: "photo", BlobRef: strings.Repeat("0", 64), Size: 1, Width: 1, Height: 1, Format: "jpeg", Accepted: true}}})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := pg.Documents(ctx, id, "p")
	if err != nil || len(docs) != 1 || docs[0].ID == 0 {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	list, _, _ := pg.CandidateList(ctx, store.CandidateFilter{PlanID: "p"})
	cand := list[0].CandidateID
	staff, _ := pg.CreateStaffUser(ctx, store.StaffUser{Login: "sun", DisplayName: "孙", Role: store.RoleStaff})
	if err := pg.ReviewDocument(ctx, cand+1000, store.DocumentReview{DocumentID: docs[0].ID, Verdict: store.ReviewRejected}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("review through another candidate: err = %v, want store.ErrNotFound", err)
	}
	if _, err := pg.CandidateDocument(ctx, cand+1000, docs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("document through another candidate: err = %v, want store.ErrNotFound", err)
	}
	err = pg.ReviewDocument(ctx, cand, store.DocumentReview{DocumentID: docs[0].ID, Verdict: store.ReviewRejected, Reason: "照片模糊", StaffID: staff.ID, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	d, err := pg.CandidateDocument(ctx, cand, docs[0].ID)
	if err != nil || d.Review != store.ReviewRejected || d.ReviewReason != "照片模糊" || d.ReviewedBy != staff.ID || d.ReviewedAt.IsZero() {
		t.Fatalf("reviewed document: %+v %v", d, err)
	}
}
