package broadcasts_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"regbot/broadcasts"
	"regbot/store"
)

// TestFilterRefused: a malformed, mistyped or misspelt filter is refused
// when compiled, with expr's message naming the problem.
func TestFilterRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, filter, says string
	}{
		{"malformed", `status == `, "unexpected token EOF"},
		{"unclosed string", `status == "paid`, "literal not terminated"},
		{"mistyped", `status == 3`, "mismatched types string and int"},
		{"misspelt field", `statuz == "paid"`, "unknown name statuz"},
		{"not a bool", `days_in_status + 1`, "expected bool"},
		{"time against number", `created > 5`, "mismatched types time.Time and int"},
		{"empty", `  `, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := broadcasts.CompileFilter(c.filter)
			if !errors.Is(err, broadcasts.ErrFilter) {
				t.Fatalf("CompileFilter(%q) = %v, want ErrFilter", c.filter, err)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Fatalf("CompileFilter(%q): %q does not say %q", c.filter, err, c.says)
			}
		})
	}
}

// TestFilterMatches evaluates filters on fields, the derived ones
// included.
func TestFilterMatches(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	waiting := store.AudienceMember{Status: store.StatusAwaitingPayment, Identity: store.Identity{Channel: "wechat"},
		StatusSince: now.Add(-75 * time.Hour), CreatedAt: now.Add(-30 * 24 * time.Hour), Name: "张三"}
	collecting := store.AudienceMember{Status: store.StatusCollecting, Identity: store.Identity{Channel: "telegram"},
		StatusSince: now.Add(-10 * 24 * time.Hour), CreatedAt: now.Add(-10 * 24 * time.Hour), OpenTicket: true, Unreachable: true}
	cases := []struct {
		filter string
		want   []bool // waiting, collecting
	}{
		{`true`, []bool{true, true}},
		{`status == "awaiting_payment" && days_waiting_payment >= 3`, []bool{true, false}},
		{`days_waiting_payment >= 4`, []bool{false, false}},
		{`days_in_status >= 10`, []bool{false, true}},
		{`channel in ["wechat", "web"]`, []bool{true, false}},
		{`open_ticket || !reachable`, []bool{false, true}},
		{`has_name`, []bool{true, false}},
		{`created < now - duration("240h")`, []bool{true, false}},
		{`created >= date("2026-11-20")`, []bool{false, true}},
	}
	for _, c := range cases {
		f, err := broadcasts.CompileFilter(c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		for i, m := range []store.AudienceMember{waiting, collecting} {
			got, err := f.Match(broadcasts.FieldsOf(m, now))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want[i] {
				t.Errorf("%s on candidate %d: %v, want %v", c.filter, i, got, c.want[i])
			}
		}
	}
}

// TestTemplate fills in placeholders and their defaults, and refuses an
// unknown placeholder or an unclosed brace.
func TestTemplate(t *testing.T) {
	t.Parallel()
	tpl, err := broadcasts.ParseTemplate("{name|考生}您好，您的状态：{status}。缴费：{payment_link}")
	if err != nil {
		t.Fatal(err)
	}
	got := tpl.Render(broadcasts.Values{"status": "待缴费", "payment_link": "https://pay.example/1"})
	if want := "考生您好，您的状态：待缴费。缴费：https://pay.example/1"; got != want {
		t.Fatalf("Render = %q, want %q", got, want)
	}
	if got := tpl.Render(broadcasts.Values{"name": "李四"}); !strings.HasPrefix(got, "李四您好") {
		t.Fatalf("Render with a name = %q", got)
	}
	for _, bad := range []string{"{nmae}您好", "您好 {name", "", "{mobile}"} {
		if _, err := broadcasts.ParseTemplate(bad); !errors.Is(err, broadcasts.ErrTemplate) {
			t.Errorf("ParseTemplate(%q) = %v, want ErrTemplate", bad, err)
		}
	}
}
