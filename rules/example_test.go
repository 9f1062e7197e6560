package rules_test

import (
	"fmt"

	"regbot/rules"
)

// A dialog evaluates the plan's conditions after every answer and asks next
// for what can still change the outcome.
func Example() {
	set, err := rules.Compile(rules.Vars{
		"has_prior_cert":        rules.Bool,
		"work_years_since_cert": rules.Number,
		"work_years":            rules.Number,
		"has_training_cert":     rules.Bool,
		"training_hours":        rules.Number,
		"school_kind":           rules.String,
		"major_related":         rules.Bool,
		"graduation":            rules.String,
	}, []rules.ConditionSpec{
		{Key: "C1", Clauses: []string{"has_prior_cert", "work_years_since_cert >= 3"}},
		{Key: "C2", Clauses: []string{"work_years >= 4"}},
		{Key: "C3", Clauses: []string{"work_years >= 2", "has_training_cert", "training_hours >= 104"}},
		{Key: "C4", Clauses: []string{`school_kind in ["technical", "vocational"]`, "major_related", `graduation in ["graduated", "final_year"]`}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// No level-5 certificate, one year of related work.
	env := rules.Env{"has_prior_cert": false, "work_years": 1.0}
	out := set.Evaluate(env)
	for _, c := range out.Conditions {
		fmt.Println(c.Key, c.Verdict, c.Clauses)
	}
	fmt.Println("ask next:", set.Needs(env, out))

	// A technical-school graduate in a related major.
	env["school_kind"], env["major_related"], env["graduation"] = "technical", true, "graduated"
	out = set.Evaluate(env)
	fmt.Println("C4:", out.Conditions[3].Verdict, "ask next:", set.Needs(env, out))
	// Output:
	// C1 fails [fails unknown]
	// C2 fails [fails]
	// C3 fails [fails unknown unknown]
	// C4 unknown [unknown unknown unknown]
	// ask next: [school_kind major_related graduation]
	// C4: holds ask next: []
}

// A typo in a plan's rule stops start-up with the rule's name.
func ExampleCompile_error() {
	_, err := rules.Compile(rules.Vars{"training_hours": rules.Number}, []rules.ConditionSpec{
		{Key: "C3", Clauses: []string{"training_hour >= 104"}},
	})
	fmt.Println(err)
	// Output:
	// condition C3 clause 1 "training_hour >= 104": unknown name training_hour (1:1)
}
