package dialogs_test

import (
	"context"
	"fmt"
	"time"

	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
)

// The engine runs one candidate message at a time against a session; the
// channel adapters and the Router do the rest (stores, platforms).
func Example() {
	plan, err := plans.Default()
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, dialogs.ChinaTime)
	e, err := dialogs.NewEngine(plan, dialogs.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	s := e.NewSession(store.Identity{Channel: "console", UserID: "demo"})
	for _, text := range []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否"} {
		res, err := e.Handle(context.Background(), s, dialogs.Inbound{Text: text})
		if err != nil {
			panic(err)
		}
		for _, ev := range res.Events {
			if ev.Kind == dialogs.EventEligibility {
				fmt.Println("condition:", *ev.Condition, "materials:", len(ev.Materials))
			}
		}
	}
	fmt.Println("next question:", s.Step)
	// Output:
	// condition: C2 materials: 5
	// next question: name
}
