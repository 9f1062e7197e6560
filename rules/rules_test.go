package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// describe renders an outcome compactly, e.g. "C1 fails [fails unknown] | C2 holds [holds]".
func describe(out Outcome) string {
	parts := make([]string, len(out.Conditions))
	for i, c := range out.Conditions {
		vs := make([]string, len(c.Clauses))
		for j, v := range c.Clauses {
			vs[j] = v.String()
		}
		parts[i] = fmt.Sprintf("%s %v [%s]", c.Key, c.Verdict, strings.Join(vs, " "))
	}
	return strings.Join(parts, " | ")
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()

	plan := func(edit func([]ConditionSpec) []ConditionSpec) []ConditionSpec {
		return edit(planConditions())
	}
	tests := []struct {
		name  string
		vars  Vars
		conds []ConditionSpec
		want  []string // the joined error's lines, in order
		is    error    // a sentinel every ClauseError wraps, if any
	}{
		{
			name: "misspelt variable",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[2].Clauses[2] = "training_hour >= 104"
				return c
			}),
			want: []string{`condition C3 clause 3 "training_hour >= 104": unknown name training_hour (1:1)`},
		},
		{
			name: "type error",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[2].Clauses[2] = `training_hours >= "x"`
				return c
			}),
			want: []string{`condition C3 clause 3 "training_hours >= \"x\"": invalid operation: >= (mismatched types float64 and string) (1:16)`},
		},
		{
			name: "non-bool clause",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[1].Clauses[0] = "work_years + 1"
				return c
			}),
			want: []string{`condition C2 clause 1 "work_years + 1": expected bool, but got float64`},
		},
		{
			name: "empty clause",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[3].Clauses[1] = ""
				return c
			}),
			want: []string{`condition C4 clause 2 "": empty clause`},
			is:   ErrEmptyClause,
		},
		{
			name: "blank clause",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[0].Clauses[0] = " \t "
				return c
			}),
			want: []string{`condition C1 clause 1 " \t ": empty clause`},
			is:   ErrEmptyClause,
		},
		{
			name: "duplicate key",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[3].Key = "C2"
				return c
			}),
			want: []string{`condition C2: duplicate condition key (also condition #2)`},
			is:   ErrDuplicateKey,
		},
		{
			name: "condition without clauses",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				return append(c, ConditionSpec{Key: "C5"})
			}),
			want: []string{`condition C5: no clauses`},
			is:   ErrNoClauses,
		},
		{
			name: "empty key",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[1].Key = ""
				return c
			}),
			want: []string{`condition #2: empty condition key`},
			is:   ErrEmptyKey,
		},
		{
			name: "$env hides what a clause reads",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[1].Clauses[0] = `$env["work_years"] >= 4`
				return c
			}),
			want: []string{`condition C2 clause 1 "$env[\"work_years\"] >= 4": $env is not supported: name the variables`},
			is:   ErrEnvVariable,
		},
		{
			name: "all problems at once, in spec order",
			conds: plan(func(c []ConditionSpec) []ConditionSpec {
				c[0].Clauses[1] = "work_year_since_cert >= 3"
				c[2].Clauses = []string{"work_years >= 2", "", `training_hours >= "104"`}
				c[3].Key = "C1"
				return c
			}),
			want: []string{
				`condition C1 clause 2 "work_year_since_cert >= 3": unknown name work_year_since_cert (1:1)`,
				`condition C3 clause 2 "": empty clause`,
				`condition C3 clause 3 "training_hours >= \"104\"": invalid operation: >= (mismatched types float64 and string) (1:16)`,
				`condition C1: duplicate condition key (also condition #1)`,
			},
		},
		{
			name:  "variable of unknown type",
			vars:  Vars{"work_years": Number, "mood": Type(9)},
			conds: []ConditionSpec{{Key: "C2", Clauses: []string{"work_years >= 4", `mood == "good"`}}},
			want: []string{
				`variable mood: unknown type Type(9)`,
				`condition C2 clause 2 "mood == \"good\"": unknown name mood (1:1)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := tt.vars
			if vars == nil {
				vars = planVars()
			}
			set, err := Compile(vars, tt.conds)
			if err == nil {
				t.Fatalf("Compile succeeded, want errors %q", tt.want)
			}
			if set != nil {
				t.Errorf("Compile returned a Set along with errors")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
			var ce *ClauseError
			if !errors.As(err, &ce) && !strings.HasPrefix(tt.want[0], "variable") {
				t.Errorf("errors.As(%v, *ClauseError) = false", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestClauseErrorFields(t *testing.T) {
	t.Parallel()
	conds := planConditions()
	conds[2].Clauses[2] = "training_hour >= 104"
	_, err := Compile(planVars(), conds)
	var ce *ClauseError
	if !errors.As(err, &ce) {
		t.Fatalf("errors.As(%v, *ClauseError) = false", err)
	}
	if ce.Key != "C3" || ce.Clause != 3 || ce.Source != "training_hour >= 104" {
		t.Errorf("ClauseError = {Key %q, Clause %d, Source %q}, want {C3, 3, training_hour >= 104}", ce.Key, ce.Clause, ce.Source)
	}
}

func TestKeysAndReads(t *testing.T) {
	t.Parallel()
	conds := append(planConditions(),
		ConditionSpec{Key: "X", Clauses: []string{
			"work_years >= 2 && work_years_since_cert < work_years",
			`len(school_kind) > 0 || prior_cert_date == "2020-01"`,
			"true",
		}})
	s, err := Compile(planVars(), conds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Keys(), []string{"C1", "C2", "C3", "C4", "X"}; !slices.Equal(got, want) {
		t.Errorf("Keys() = %q, want %q", got, want)
	}
	tests := []struct {
		name   string
		key    string
		clause int
		want   []string
	}{
		{"C1 first clause", "C1", 0, []string{"has_prior_cert"}},
		{"C1 second clause", "C1", 1, []string{"work_years_since_cert"}},
		{"C3 last clause", "C3", 2, []string{"training_hours"}},
		{"C4 list membership", "C4", 0, []string{"school_kind"}},
		{"repeated variable listed once, in reading order", "X", 0, []string{"work_years", "work_years_since_cert"}},
		{"builtin call is not a variable", "X", 1, []string{"school_kind", "prior_cert_date"}},
		{"constant clause reads nothing", "X", 2, []string{}},
		{"unknown key", "C9", 0, nil},
		{"clause out of range", "C2", 1, nil},
		{"negative clause", "C2", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := s.Reads(tt.key, tt.clause)
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("Reads(%q, %d) = %#v, want %#v", tt.key, tt.clause, got, tt.want)
			}
		})
	}
	// The result is a copy: changing it does not change the Set.
	s.Reads("C1", 0)[0] = "changed"
	if got := s.Reads("C1", 0); got[0] != "has_prior_cert" {
		t.Errorf("Reads shares its slice with the Set: %q", got)
	}
}

func TestEvaluateBoundaries(t *testing.T) {
	t.Parallel()
	s := mustCompilePlan(t)
	tests := []struct {
		name string
		env  Env
		key  string
		want string // "<verdict> [<clause verdicts>]" of condition key
	}{
		{"C2 just under 4 years", Env{"work_years": 3.9999}, "C2", "fails [fails]"},
		{"C2 exactly 4 years", Env{"work_years": 4.0}, "C2", "holds [holds]"},
		{"C2 47 months", Env{"work_years": 47.0 / 12}, "C2", "fails [fails]"},
		{"C2 48 months", Env{"work_years": 48.0 / 12}, "C2", "holds [holds]"},
		{"C3 103 hours", Env{"work_years": 2.0, "has_training_cert": true, "training_hours": 103.0}, "C3", "fails [holds holds fails]"},
		{"C3 104 hours", Env{"work_years": 2.0, "has_training_cert": true, "training_hours": 104.0}, "C3", "holds [holds holds holds]"},
		{"C3 23 months of work", Env{"work_years": 23.0 / 12, "has_training_cert": true, "training_hours": 104.0}, "C3", "fails [fails holds holds]"},
		{"C3 without completion certificate", Env{"work_years": 3.0, "has_training_cert": false, "training_hours": 200.0}, "C3", "fails [holds fails holds]"},
		{"C1 35 months after the certificate", Env{"has_prior_cert": true, "work_years_since_cert": 35.0 / 12}, "C1", "fails [holds fails]"},
		{"C1 36 months after the certificate", Env{"has_prior_cert": true, "work_years_since_cert": 36.0 / 12}, "C1", "holds [holds holds]"},
		{"C1 without the certificate", Env{"has_prior_cert": false, "work_years_since_cert": 10.0}, "C1", "fails [fails holds]"},
		{"C4 technical school graduate", Env{"school_kind": "technical", "major_related": true, "graduation": "graduated"}, "C4", "holds [holds holds holds]"},
		{"C4 vocational school final year", Env{"school_kind": "vocational", "major_related": true, "graduation": "final_year"}, "C4", "holds [holds holds holds]"},
		{"C4 no such school", Env{"school_kind": "none", "major_related": true, "graduation": "graduated"}, "C4", "fails [fails holds holds]"},
		{"C4 unrelated major", Env{"school_kind": "technical", "major_related": false, "graduation": "graduated"}, "C4", "fails [holds fails holds]"},
		{"C4 left without graduating", Env{"school_kind": "technical", "major_related": true, "graduation": "other"}, "C4", "fails [holds holds fails]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := s.Evaluate(tt.env)
			for _, c := range out.Conditions {
				if c.Key != tt.key {
					continue
				}
				vs := make([]string, len(c.Clauses))
				for j, v := range c.Clauses {
					vs[j] = v.String()
				}
				if got := fmt.Sprintf("%v [%s]", c.Verdict, strings.Join(vs, " ")); got != tt.want {
					t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
				}
				return
			}
			t.Fatalf("no condition %s in %s", tt.key, describe(out))
		})
	}
}

func TestPartialKnowledge(t *testing.T) {
	t.Parallel()
	s := mustCompilePlan(t)
	tests := []struct {
		name      string
		env       Env
		want      string
		wantNeeds []string
	}{
		{
			name: "nothing known: ask C1's first clause first",
			env:  Env{},
			want: "C1 unknown [unknown unknown] | C2 unknown [unknown] | C3 unknown [unknown unknown unknown] | C4 unknown [unknown unknown unknown]",
			wantNeeds: []string{"has_prior_cert", "work_years_since_cert", "work_years", "has_training_cert",
				"training_hours", "school_kind", "major_related", "graduation"},
		},
		{
			name:      "4+ years: C2 holds, nothing more to ask",
			env:       Env{"work_years": 5.0},
			want:      "C1 unknown [unknown unknown] | C2 holds [holds] | C3 unknown [holds unknown unknown] | C4 unknown [unknown unknown unknown]",
			wantNeeds: nil,
		},
		{
			name:      "no certificate, 1 year: only the school can still help",
			env:       Env{"has_prior_cert": false, "work_years": 1.0},
			want:      "C1 fails [fails unknown] | C2 fails [fails] | C3 fails [fails unknown unknown] | C4 unknown [unknown unknown unknown]",
			wantNeeds: []string{"school_kind", "major_related", "graduation"},
		},
		{
			name:      "a condition fails while others are unknown",
			env:       Env{"has_prior_cert": false},
			want:      "C1 fails [fails unknown] | C2 unknown [unknown] | C3 unknown [unknown unknown unknown] | C4 unknown [unknown unknown unknown]",
			wantNeeds: []string{"work_years", "has_training_cert", "training_hours", "school_kind", "major_related", "graduation"},
		},
		{
			name:      "known answers are not asked again",
			env:       Env{"has_prior_cert": false, "work_years": 3.0, "has_training_cert": true, "major_related": true},
			want:      "C1 fails [fails unknown] | C2 fails [fails] | C3 unknown [holds holds unknown] | C4 unknown [unknown holds unknown]",
			wantNeeds: []string{"training_hours", "school_kind", "graduation"},
		},
		{
			name:      "every condition fails: nothing to ask",
			env:       Env{"has_prior_cert": false, "work_years": 1.0, "school_kind": "none"},
			want:      "C1 fails [fails unknown] | C2 fails [fails] | C3 fails [fails unknown unknown] | C4 fails [fails unknown unknown]",
			wantNeeds: nil,
		},
		{
			name:      "a value of the wrong Go type counts as unknown",
			env:       Env{"work_years": 5, "has_prior_cert": "no"},
			want:      "C1 unknown [unknown unknown] | C2 unknown [unknown] | C3 unknown [unknown unknown unknown] | C4 unknown [unknown unknown unknown]",
			wantNeeds: []string{"has_prior_cert", "work_years_since_cert", "work_years", "has_training_cert", "training_hours", "school_kind", "major_related", "graduation"},
		},
		{
			name:      "names no rule reads are ignored",
			env:       Env{"work_years": 1.0, "name": "张三", "prior_cert_date": "2020-01"},
			want:      "C1 unknown [unknown unknown] | C2 fails [fails] | C3 fails [fails unknown unknown] | C4 unknown [unknown unknown unknown]",
			wantNeeds: []string{"has_prior_cert", "work_years_since_cert", "school_kind", "major_related", "graduation"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := s.Evaluate(tt.env)
			if got := describe(out); got != tt.want {
				t.Errorf("Evaluate:\n got %s\nwant %s", got, tt.want)
			}
			if got := s.Needs(tt.env, out); !slices.Equal(got, tt.wantNeeds) {
				t.Errorf("Needs = %q, want %q", got, tt.wantNeeds)
			}
		})
	}
}

// TestNeedsFollowsTheGivenOutcome checks that Needs works from the outcome it
// is given, so a caller may adjust verdicts (the engine marks conditions it
// no longer cares about as failed) and reorder them.
func TestNeedsFollowsTheGivenOutcome(t *testing.T) {
	t.Parallel()
	s := mustCompilePlan(t)
	env := Env{"has_prior_cert": true}
	tests := []struct {
		name   string
		adjust func(Outcome) Outcome
		want   []string
	}{
		{"as evaluated", func(o Outcome) Outcome { return o }, []string{"work_years_since_cert", "work_years", "has_training_cert", "training_hours", "school_kind", "major_related", "graduation"}},
		{"C1 and C3 ruled out by the caller", func(o Outcome) Outcome {
			o.Conditions[0].Verdict = Fails
			o.Conditions[2].Verdict = Fails
			return o
		}, []string{"work_years", "school_kind", "major_related", "graduation"}},
		{"reordered: C4 first", func(o Outcome) Outcome {
			c := o.Conditions
			o.Conditions = []ConditionOutcome{c[3], c[0], c[1], c[2]}
			return o
		}, []string{"school_kind", "major_related", "graduation", "work_years_since_cert", "work_years", "has_training_cert", "training_hours"}},
		{"a holding condition stops the questions", func(o Outcome) Outcome {
			o.Conditions[3].Verdict = Holds
			return o
		}, nil},
		{"unknown keys are skipped", func(o Outcome) Outcome {
			o.Conditions = []ConditionOutcome{{Key: "C9", Clauses: []Verdict{Unknown}}, o.Conditions[1]}
			return o
		}, []string{"work_years"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tt.adjust(s.Evaluate(env))
			if got := s.Needs(env, out); !slices.Equal(got, tt.want) {
				t.Errorf("Needs = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKleeneClauses checks clauses with top-level &&, || and !: decided as
// soon as the known part decides them, never decided wrongly.
func TestKleeneClauses(t *testing.T) {
	t.Parallel()
	s, err := Compile(planVars(), []ConditionSpec{
		{Key: "and", Clauses: []string{"has_prior_cert && work_years_since_cert >= 3"}},
		{Key: "or", Clauses: []string{"!has_prior_cert || work_years_since_cert >= 3"}},
		{Key: "not", Clauses: []string{"not (has_training_cert and training_hours >= 104)"}},
		{Key: "nested", Clauses: []string{"work_years >= 4 || (work_years >= 2 && has_training_cert && training_hours >= 104)"}},
		{Key: "atomic", Clauses: []string{"(work_years >= 4) == major_related"}},
		{Key: "runtime", Clauses: []string{`int(prior_cert_date) > 2000`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        Env
		want       map[string]Verdict
		checkNeeds bool
		wantNeeds  []string
	}{
		{
			name:       "false && unknown fails, !false || unknown holds",
			env:        Env{"has_prior_cert": false},
			want:       map[string]Verdict{"and": Fails, "or": Holds},
			checkNeeds: true,
			wantNeeds:  nil, // "or" holds
		},
		{
			name:       "true && unknown stays unknown",
			env:        Env{"has_prior_cert": true},
			want:       map[string]Verdict{"and": Unknown, "or": Unknown},
			checkNeeds: true,
			wantNeeds: []string{"work_years_since_cert", "has_training_cert", "training_hours", "work_years",
				"major_related", "prior_cert_date"},
		},
		{
			name: "all known runs the whole clause",
			env:  Env{"has_prior_cert": true, "work_years_since_cert": 3.0},
			want: map[string]Verdict{"and": Holds, "or": Holds},
		},
		{
			name: "not of a failing conjunction holds",
			env:  Env{"has_training_cert": false},
			want: map[string]Verdict{"not": Holds, "nested": Unknown},
		},
		{
			name: "not of an undecided conjunction is unknown",
			env:  Env{"has_training_cert": true},
			want: map[string]Verdict{"not": Unknown},
		},
		{
			name: "nested: the left of || decides",
			env:  Env{"work_years": 5.0},
			want: map[string]Verdict{"nested": Holds, "atomic": Unknown},
		},
		{
			name: "nested: the right of || fails on its own known part",
			env:  Env{"work_years": 1.0},
			want: map[string]Verdict{"nested": Fails},
		},
		{
			name: "nested: still unknown until the hours are known",
			env:  Env{"work_years": 3.0, "has_training_cert": true},
			want: map[string]Verdict{"nested": Unknown},
		},
		{
			name: "a run-time error decides nothing",
			env:  Env{"prior_cert_date": "2020-06"},
			want: map[string]Verdict{"runtime": Unknown},
		},
		{
			name: "the same clause runs when it can",
			env:  Env{"prior_cert_date": "2020"},
			want: map[string]Verdict{"runtime": Holds},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := s.Evaluate(tt.env)
			for _, c := range out.Conditions {
				if want, ok := tt.want[c.Key]; ok && c.Verdict != want {
					t.Errorf("%s = %v, want %v (%s)", c.Key, c.Verdict, want, describe(out))
				}
			}
			if tt.checkNeeds {
				if got := s.Needs(tt.env, out); !slices.Equal(got, tt.wantNeeds) {
					t.Errorf("Needs = %q, want %q", got, tt.wantNeeds)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	s := mustCompilePlan(t)
	tests := []struct {
		name string
		env  Env
		want string // "" for no error
	}{
		{"well-typed values", Env{"work_years": 4.0, "has_prior_cert": true, "school_kind": "technical"}, ""},
		{"undeclared names are ignored", Env{"nickname": 3}, ""},
		{"wrong types, sorted by name", Env{"work_years": 4, "has_prior_cert": "yes", "graduation": nil},
			"variable graduation: value of type <nil>, want string\n" +
				"variable has_prior_cert: value of type string, want bool\n" +
				"variable work_years: value of type int, want number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Check(tt.env)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvaluateIntoReusesOutcome(t *testing.T) {
	t.Parallel()
	s := mustCompilePlan(t)
	full := Env{"has_prior_cert": false, "work_years": 5.0, "has_training_cert": true, "training_hours": 96.0,
		"work_years_since_cert": 0.0, "school_kind": "none", "major_related": false, "graduation": "other"}
	var out Outcome
	s.EvaluateInto(Env{}, &out)
	first := &out.Conditions[0]
	s.EvaluateInto(full, &out)
	if &out.Conditions[0] != first {
		t.Errorf("EvaluateInto reallocated the conditions")
	}
	if got, want := describe(out), describe(s.Evaluate(full)); got != want {
		t.Errorf("EvaluateInto = %s, want %s", got, want)
	}
}

// TestEvaluateIntoDoesNotAllocate is not parallel: testing.AllocsPerRun
// refuses to run in a parallel test.
func TestEvaluateIntoDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	s := mustCompilePlan(t)
	tests := []struct {
		name string
		env  Env
	}{
		{"all known", Env{"has_prior_cert": true, "work_years": 5.0, "has_training_cert": true, "training_hours": 96.0,
			"work_years_since_cert": 3.5, "school_kind": "technical", "major_related": true, "graduation": "graduated"}},
		{"partial", Env{"has_prior_cert": true, "work_years": 3.0}},
		{"nothing known", Env{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out Outcome
			s.EvaluateInto(tt.env, &out)
			if n := testing.AllocsPerRun(100, func() { s.EvaluateInto(tt.env, &out) }); n != 0 {
				t.Errorf("EvaluateInto allocates %v times per run, want 0", n)
			}
		})
	}
}

// TestConcurrentEvaluate evaluates one Set from many goroutines (run it
// with -race): each must see exactly the sequential result.
func TestConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	s := mustCompilePlan(t)
	envs := []Env{
		{},
		{"work_years": 5.0},
		{"has_prior_cert": false, "work_years": 1.0},
		{"has_prior_cert": true, "work_years_since_cert": 3.0},
		{"work_years": 2.0, "has_training_cert": true, "training_hours": 104.0},
		{"school_kind": "technical", "major_related": true, "graduation": "final_year"},
	}
	want := make([]string, len(envs))
	for i, env := range envs {
		want[i] = describe(s.Evaluate(env))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			var out Outcome
			for n := range 500 {
				i := (g + n) % len(envs)
				s.EvaluateInto(envs[i], &out)
				if got := describe(out); got != want[i] {
					errs <- fmt.Sprintf("goroutine %d env %d: got %s, want %s", g, i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestVerdictString(t *testing.T) {
	t.Parallel()
	for v, want := range map[Verdict]string{Unknown: "unknown", Holds: "holds", Fails: "fails", Verdict(7): "Verdict(7)"} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), got, want)
		}
	}
}
