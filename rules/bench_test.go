package rules

import "testing"

func mustCompilePlan(b testing.TB) *Set {
	b.Helper()
	s, err := Compile(planVars(), planConditions())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkEvaluate is one evaluation of the real plan with every variable
// known: the engine's per-turn cost once the answers are in.
func BenchmarkEvaluate(b *testing.B) {
	s := mustCompilePlan(b)
	env := Env{
		"has_prior_cert":        true,
		"prior_cert_date":       "2020-06",
		"work_years_since_cert": 2.5,
		"work_years":            3.0,
		"has_training_cert":     true,
		"training_hours":        120.0,
		"school_kind":           "vocational",
		"major_related":         false,
		"graduation":            "graduated",
	}
	var out Outcome
	s.EvaluateInto(env, &out)
	b.ReportAllocs()
	for b.Loop() {
		s.EvaluateInto(env, &out)
	}
	if out.Conditions[2].Verdict != Holds {
		b.Fatalf("C3 = %v, want holds", out.Conditions[2].Verdict)
	}
}

// BenchmarkEvaluatePartial is an evaluation early in a dialog, with a few
// answers known.
func BenchmarkEvaluatePartial(b *testing.B) {
	s := mustCompilePlan(b)
	env := Env{"has_prior_cert": false, "work_years": 2.5, "has_training_cert": true}
	var out Outcome
	s.EvaluateInto(env, &out)
	b.ReportAllocs()
	for b.Loop() {
		s.EvaluateInto(env, &out)
	}
	if out.Conditions[2].Verdict != Unknown {
		b.Fatalf("C3 = %v, want unknown", out.Conditions[2].Verdict)
	}
}

// BenchmarkNeeds is the other half of a turn early in a dialog: which
// answers can still change the outcome.
func BenchmarkNeeds(b *testing.B) {
	s := mustCompilePlan(b)
	env := Env{"has_prior_cert": false, "work_years": 2.5, "has_training_cert": true}
	out := s.Evaluate(env)
	b.ReportAllocs()
	var needs []string
	for b.Loop() {
		needs = s.Needs(env, out)
	}
	if len(needs) != 4 {
		b.Fatalf("needs = %v, want 4 names", needs)
	}
}

// BenchmarkEvaluateParallel evaluates from every core at once: the Set's
// pool of VMs is what makes it safe and keeps it allocation-free.
func BenchmarkEvaluateParallel(b *testing.B) {
	s := mustCompilePlan(b)
	env := Env{"has_prior_cert": false, "work_years": 5.0, "has_training_cert": true, "training_hours": 96.0}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var out Outcome
		for pb.Next() {
			s.EvaluateInto(env, &out)
		}
	})
}
