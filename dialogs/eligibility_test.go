package dialogs_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
)

// today is the fixed date of every eligibility test (DOMAIN.md's month rule:
// a period counts both its months; 至今 ends in the current month).
var today = time.Date(2026, 11, 28, 12, 0, 0, 0, dialogs.ChinaTime)

func newEngine(t testing.TB) *dialogs.Engine {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatalf("load plan: %v", err)
	}
	e, err := dialogs.NewEngine(plan, dialogs.Options{Now: func() time.Time { return today }})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	return e
}

// job is a related work period; odd is an unrelated one.
func job(start, end string) store.WorkEntry {
	return store.WorkEntry{Employer: "杭州某某电子商务有限公司", Occupation: "电子商务师", Related: true, Start: start, End: end}
}

func odd(start, end string) store.WorkEntry {
	return store.WorkEntry{Employer: "某某会计师事务所", Occupation: "会计", Related: false, Start: start, End: end}
}

type profile struct {
	work    []store.WorkEntry
	noWork  bool // work history finished with no entries
	answers map[string]any
}

func (p profile) session(e *dialogs.Engine) *dialogs.Session {
	s := e.NewSession(store.Identity{Channel: "test", UserID: "u"})
	s.Work = p.work
	s.WorkDone = len(p.work) > 0 || p.noWork
	for k, v := range p.answers {
		s.Answers[k] = v
	}
	return s
}

// none answers every eligibility question but work in the negative.
func none(extra map[string]any) map[string]any {
	m := map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "none"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestEvaluateProfiles(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	tests := []struct {
		name      string
		p         profile
		condition string   // "" = none holds
		also      []string // other conditions that hold
		undecided bool
		needs     []string // when undecided: the slots still asked, in order
		missing   []string // substrings of the explanation when none holds
	}{
		{
			name:      "C2 exactly 48 months ongoing",
			p:         profile{work: []store.WorkEntry{job("2022-12", "至今")}},
			condition: "C2",
		},
		{
			name:      "47 months is not C2 and nearest is C2",
			p:         profile{work: []store.WorkEntry{job("2023-01", "至今")}, answers: none(nil)},
			condition: "",
			missing:   []string{"3年11个月"},
		},
		{
			name:      "closed period both months inclusive: 2019-01 to 2022-12 is 48 months",
			p:         profile{work: []store.WorkEntry{job("2019-01", "2022-12")}},
			condition: "C2",
		},
		{
			name:      "overlapping periods count once: 42 months",
			p:         profile{work: []store.WorkEntry{job("2020-01", "2022-12"), job("2022-01", "2023-06")}, answers: none(nil)},
			condition: "",
			missing:   []string{"3年6个月"},
		},
		{
			name:      "overlapping periods reaching 48 months",
			p:         profile{work: []store.WorkEntry{job("2020-01", "2022-12"), job("2022-06", "2023-12")}},
			condition: "C2",
		},
		{
			name:      "unrelated occupation does not count",
			p:         profile{work: []store.WorkEntry{odd("2015-01", "至今")}, answers: none(nil)},
			condition: "",
		},
		{
			name:      "related and unrelated mixed: only related months count",
			p:         profile{work: []store.WorkEntry{odd("2015-01", "2022-12"), job("2023-01", "至今")}, answers: none(nil)},
			condition: "",
			missing:   []string{"3年11个月"},
		},
		{
			name: "C1 with 36 months after the certificate month",
			p: profile{work: []store.WorkEntry{job("2023-01", "至今")},
				answers: map[string]any{"has_prior_cert": true, "prior_cert_date": "2023-12", "has_training_cert": false, "school_kind": "none"}},
			condition: "C1",
		},
		{
			name: "C1 fails with 35 months after the certificate",
			p: profile{work: []store.WorkEntry{job("2023-01", "至今")},
				answers: map[string]any{"has_prior_cert": true, "prior_cert_date": "2024-01", "has_training_cert": false, "school_kind": "none"}},
			condition: "",
			missing:   []string{"2年11个月"}, // C1 (one clause of two, 1 month short) is nearer than C2
		},
		{
			name:      "C2 and C1 both hold: C2 needs fewer materials",
			p:         profile{work: []store.WorkEntry{job("2020-01", "至今")}, answers: map[string]any{"has_prior_cert": true, "prior_cert_date": "2020-06"}},
			condition: "C2",
			also:      []string{"C1"},
		},
		{
			name: "C3 at 104 hours",
			p: profile{work: []store.WorkEntry{job("2024-01", "2025-12")},
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": true, "training_hours": 104.0, "school_kind": "none"}},
			condition: "C3",
		},
		{
			name: "C3 fails at 103 hours and says by how much",
			p: profile{work: []store.WorkEntry{job("2024-01", "2025-12")},
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": true, "training_hours": 103.0, "school_kind": "none"}},
			condition: "",
			missing:   []string{"103"},
		},
		{
			name: "C3 needs 24 months of work: 23 fail",
			p: profile{work: []store.WorkEntry{job("2024-01", "2025-11")},
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": true, "training_hours": 120.0, "school_kind": "none"}},
			condition: "",
			missing:   []string{"1年11个月"},
		},
		{
			name: "C4 technical school graduate in a related major",
			p: profile{noWork: true,
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "technical", "major": "电子商务", "graduation": "graduated"}},
			condition: "C4",
		},
		{
			name: "C4 final-year student of an evaluated vocational school",
			p: profile{noWork: true,
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "vocational", "major": "市场营销", "graduation": "final_year"}},
			condition: "C4",
		},
		{
			name: "C4 fails for an unrelated major",
			p: profile{noWork: true,
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "technical", "major": "会计", "graduation": "graduated"}},
			condition: "",
		},
		{
			name: "technical school with an unrelated major: the major is what is missing",
			p: profile{noWork: true,
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "technical", "major": "会计", "graduation": "graduated"}},
			condition: "",
			missing:   []string{"专业"},
		},
		{
			name: "C4 fails for other graduation",
			p: profile{noWork: true,
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "technical", "major": "电子商务", "graduation": "other"}},
			condition: "",
		},
		{
			name: "tie C3 and C4 (six materials each): the lower number",
			p: profile{work: []store.WorkEntry{job("2023-01", "2025-12")},
				answers: map[string]any{"has_prior_cert": false, "has_training_cert": true, "training_hours": 110.0,
					"school_kind": "technical", "major": "电子商务", "graduation": "graduated"}},
			condition: "C3",
			also:      []string{"C4"},
		},
		{
			name: "C2 and C4 both hold: C2",
			p: profile{work: []store.WorkEntry{job("2020-01", "2025-12")},
				answers: map[string]any{"school_kind": "technical", "major": "电子商务", "graduation": "graduated"}},
			condition: "C2",
			also:      []string{"C4"},
		},
		{
			name:      "nothing answered: work history first",
			p:         profile{},
			undecided: true,
			needs:     []string{"work_history", "has_prior_cert", "prior_cert_date", "has_training_cert", "training_hours", "school_kind", "major", "graduation"},
		},
		{
			name:      "one year of work: no certificate date is needed even with a certificate",
			p:         profile{work: []store.WorkEntry{job("2025-12", "至今")}, answers: map[string]any{"has_prior_cert": true}},
			undecided: true,
			needs:     []string{"school_kind", "major", "graduation"},
		},
		{
			name:      "3.5 years with a certificate: its date can still decide C1",
			p:         profile{work: []store.WorkEntry{job("2023-06", "至今")}, answers: map[string]any{"has_prior_cert": true}},
			undecided: true,
			needs:     []string{"prior_cert_date", "has_training_cert", "training_hours", "school_kind", "major", "graduation"},
		},
		{
			name:      "no training certificate: hours are not asked",
			p:         profile{work: []store.WorkEntry{job("2024-01", "至今")}, answers: map[string]any{"has_prior_cert": false, "has_training_cert": false}},
			undecided: true,
			needs:     []string{"school_kind", "major", "graduation"},
		},
		{
			name:      "not a technical or vocational school: major and graduation are not asked",
			p:         profile{noWork: true, answers: map[string]any{"has_prior_cert": false, "has_training_cert": false, "school_kind": "none"}},
			condition: "",
		},
		{
			name:      "C1 holds but C3 may still be cheaper: training is asked",
			p:         profile{work: []store.WorkEntry{job("2023-01", "至今")}, answers: map[string]any{"has_prior_cert": true, "prior_cert_date": "2023-01"}},
			undecided: true,
			needs:     []string{"has_training_cert", "training_hours", "school_kind", "major", "graduation"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			el := e.Evaluate(tt.p.session(e), today)
			if tt.undecided {
				if el.Decided {
					t.Fatalf("decided %q, want undecided", el.Condition)
				}
				if !slices.Equal(el.Needs, tt.needs) {
					t.Fatalf("needs %v, want %v", el.Needs, tt.needs)
				}
				return
			}
			if !el.Decided {
				t.Fatalf("undecided (needs %v), want %q", el.Needs, tt.condition)
			}
			if el.Condition != tt.condition {
				t.Fatalf("condition %q, want %q (missing %v)", el.Condition, tt.condition, el.Missing)
			}
			if !slices.Equal(el.Also, tt.also) {
				t.Errorf("also %v, want %v", el.Also, tt.also)
			}
			joined := strings.Join(el.Missing, "\n")
			for _, m := range tt.missing {
				if !strings.Contains(joined, m) {
					t.Errorf("missing %q does not mention %q", joined, m)
				}
			}
			if tt.condition == "" && len(el.Missing) == 0 {
				t.Errorf("no explanation for a candidate who meets no condition")
			}
		})
	}
}
