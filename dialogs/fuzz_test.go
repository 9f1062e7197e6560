package dialogs_test

import (
	"context"
	"testing"

	"regbot/dialogs"
	"regbot/dialogs/answers"
	"regbot/store"
)

// FuzzTurn sends arbitrary text at a month question and at a number
// question: the engine never panics, and it moves on only when the parser
// accepted the text; otherwise nothing of the session's answers changes.
func FuzzTurn(f *testing.F) {
	for _, s := range []string{"2023-05", "2023年5月", "至今", "abc", "", "上一步", "转人工", "2099-01", "１０４", "1e309", "\x00\xff", "费用多少？"} {
		f.Add(s)
	}
	e := newEngine(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, text string) {
		s := e.NewSession(store.Identity{Channel: "fuzz", UserID: "u"})
		for _, msg := range []string{"是", "杭州某某电子商务有限公司", "电子商务师"} {
			if _, err := e.Handle(ctx, s, dialogs.Inbound{Text: msg}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Handle(ctx, s, dialogs.Inbound{Text: text}); err != nil {
			t.Fatalf("engine error on %q: %v", text, err)
		}
		_, _, perr := answers.ParseMonth(text, today, false)
		switch s.Step {
		case "work_history.end":
			if perr != nil || s.Draft == nil || s.Draft.Start == "" {
				t.Fatalf("%q advanced to the end month though the parser refused it (%v)", text, perr)
			}
		default:
			if s.Draft == nil || s.Draft.Start != "" {
				t.Fatalf("%q changed the draft without advancing: %+v", text, s.Draft)
			}
		}

		// A number question: training hours.
		n := e.NewSession(store.Identity{Channel: "fuzz", UserID: "n"})
		n.Work = []store.WorkEntry{{Employer: "x", Occupation: "电子商务师", Related: true, Start: "2024-01", End: "至今"}}
		n.WorkDone = true
		n.Answers["has_prior_cert"] = false
		n.Answers["has_training_cert"] = true
		n.Welcomed, n.Step = true, "training_hours"
		if _, err := e.Handle(ctx, n, dialogs.Inbound{Text: text}); err != nil {
			t.Fatalf("engine error on %q: %v", text, err)
		}
		if v, ok := n.Answers["training_hours"]; ok {
			if _, nerr := answers.Number(text, 0, 2000); nerr != nil {
				t.Fatalf("%q stored training_hours=%v though the parser refused it: %v", text, v, nerr)
			}
		}
	})
}
