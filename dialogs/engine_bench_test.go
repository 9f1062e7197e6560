package dialogs_test

import (
	"context"
	"testing"

	"regbot/dialogs"
	"regbot/store"
)

// BenchmarkTurn measures one dialog turn in the engine without I/O: a
// candidate with two years of related work answers the training question
// (eligibility re-evaluated, next question asked) and then goes back.
func BenchmarkTurn(b *testing.B) {
	e := newEngine(b)
	ctx := context.Background()
	s := e.NewSession(store.Identity{Channel: "bench", UserID: "u"})
	for _, msg := range []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2024-01", "至今", "否"} {
		if _, err := e.Handle(ctx, s, dialogs.Inbound{Text: msg}); err != nil {
			b.Fatal(err)
		}
	}
	if s.Step != "has_training_cert" {
		b.Fatalf("setup reached step %q, want has_training_cert", s.Step)
	}
	answer, back := dialogs.Inbound{Text: "否"}, dialogs.Inbound{Text: "上一步"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := answer
		if i%2 == 1 {
			in = back
		}
		if _, err := e.Handle(ctx, s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate measures deciding eligibility from a session's answers
// (environment built from the answers, every condition evaluated).
func BenchmarkEvaluate(b *testing.B) {
	e := newEngine(b)
	s := profile{work: []store.WorkEntry{job("2023-01", "至今")},
		answers: map[string]any{"has_prior_cert": true, "prior_cert_date": "2023-06", "has_training_cert": true,
			"training_hours": 96.0, "school_kind": "none"}}.session(e)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if el := e.Evaluate(s, today); !el.Decided {
			b.Fatal("undecided")
		}
	}
}
