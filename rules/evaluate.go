package rules

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr/vm"
)

// Env holds the known values only (bool, float64, string); an absent name is
// unknown. A value of another Go type than its variable's (an int for a
// Number, say) counts as unknown too: [Set.Check] reports such values.
type Env map[string]any

// Verdict is the three-valued result of a clause or a condition.
type Verdict int

// The verdicts.
const (
	// Unknown: some variable the verdict depends on has no value yet.
	Unknown Verdict = iota
	// Holds: true with the values known.
	Holds
	// Fails: false with the values known, whatever the unknown ones are.
	Fails
)

// String returns "unknown", "holds" or "fails".
func (v Verdict) String() string {
	switch v {
	case Unknown:
		return "unknown"
	case Holds:
		return "holds"
	case Fails:
		return "fails"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// ClauseState is the state of one clause: Holds, Fails, or Unknown (some
// variable it reads is absent).
type ClauseState struct {
	Verdict Verdict
}

// ConditionOutcome is the verdict on one condition.
type ConditionOutcome struct {
	Key string
	// Verdict is Holds when all clauses hold, Fails when some clause fails
	// (even with others unknown), Unknown otherwise.
	Verdict Verdict
	// Clauses has one verdict per clause, in spec order.
	Clauses []Verdict
}

// Outcome is the verdict on every condition of a Set, in spec order.
type Outcome struct {
	Conditions []ConditionOutcome
}

// Evaluate evaluates every condition against the known values in env.
func (s *Set) Evaluate(env Env) Outcome {
	var out Outcome
	s.EvaluateInto(env, &out)
	return out
}

// EvaluateInto is Evaluate writing into out, reusing its slices: it does not
// allocate once out has been filled by the same Set.
func (s *Set) EvaluateInto(env Env, out *Outcome) {
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	for i, name := range s.names {
		v, ok := env[name]
		sc.known[i] = ok && s.types[i].holds(v)
	}
	m := map[string]any(env) // expr's fast path wants this exact type

	if cap(out.Conditions) < len(s.conds) {
		out.Conditions = make([]ConditionOutcome, len(s.conds))
	}
	out.Conditions = out.Conditions[:len(s.conds)]
	for i := range s.conds {
		c := &s.conds[i]
		co := &out.Conditions[i]
		co.Key = c.key
		if cap(co.Clauses) < len(c.clauses) {
			co.Clauses = make([]Verdict, len(c.clauses))
		}
		co.Clauses = co.Clauses[:len(c.clauses)]
		allHold, anyFail := true, false
		for j := range c.clauses {
			v := c.clauses[j].evaluate(sc, m)
			co.Clauses[j] = v
			allHold = allHold && v == Holds
			anyFail = anyFail || v == Fails
		}
		switch {
		case anyFail:
			co.Verdict = Fails
		case allHold:
			co.Verdict = Holds
		default:
			co.Verdict = Unknown
		}
	}
}

// evaluate runs the clause when every variable it reads is known; otherwise
// it evaluates the clause's boolean skeleton, if any, with Kleene logic.
func (cl *clause) evaluate(sc *scratch, env map[string]any) Verdict {
	if allKnown(sc.known, cl.reads) {
		return run(&sc.vm, cl.prog, env)
	}
	if cl.logic != nil {
		return cl.logic.evaluate(sc, env)
	}
	return Unknown
}

func (n *logicNode) evaluate(sc *scratch, env map[string]any) Verdict {
	switch n.op {
	case opAnd:
		l := n.left.evaluate(sc, env)
		if l == Fails {
			return Fails
		}
		r := n.right.evaluate(sc, env)
		switch {
		case r == Fails:
			return Fails
		case l == Holds && r == Holds:
			return Holds
		}
		return Unknown
	case opOr:
		l := n.left.evaluate(sc, env)
		if l == Holds {
			return Holds
		}
		r := n.right.evaluate(sc, env)
		switch {
		case r == Holds:
			return Holds
		case l == Fails && r == Fails:
			return Fails
		}
		return Unknown
	case opNot:
		switch n.left.evaluate(sc, env) {
		case Holds:
			return Fails
		case Fails:
			return Holds
		}
		return Unknown
	}
	if allKnown(sc.known, n.reads) {
		return run(&sc.vm, n.prog, env)
	}
	return Unknown
}

func allKnown(known []bool, reads []int) bool {
	for _, r := range reads {
		if !known[r] {
			return false
		}
	}
	return true
}

// run runs a compiled bool expression. A run-time error (an index out of
// range, say) decides nothing: the verdict is Unknown.
func run(machine *vm.VM, prog *vm.Program, env map[string]any) Verdict {
	res, err := machine.Run(prog, env)
	if err != nil {
		return Unknown
	}
	switch res {
	case true:
		return Holds
	case false:
		return Fails
	}
	return Unknown
}

// Needs lists the variables that can still change the outcome out (as
// returned by Evaluate for env, possibly adjusted by the caller): those read
// by Unknown clauses of Unknown conditions and not known in env. Order is
// first seen: conditions in order, clauses in order, variables in the order
// the clause reads them. Needs is empty when some condition holds or when
// every condition fails.
func (s *Set) Needs(env Env, out Outcome) []string {
	for _, co := range out.Conditions {
		if co.Verdict == Holds {
			return nil
		}
	}
	var needs []string
	for i, co := range out.Conditions {
		if co.Verdict != Unknown {
			continue
		}
		c := s.condition(i, co.Key)
		if c == nil {
			continue
		}
		for j, v := range co.Clauses {
			if v != Unknown || j >= len(c.clauses) {
				continue
			}
			for _, r := range c.clauses[j].reads {
				name := s.names[r]
				if val, ok := env[name]; ok && s.types[r].holds(val) {
					continue
				}
				if needs == nil {
					needs = make([]string, 0, len(s.names))
				}
				if !containsString(needs, name) {
					needs = append(needs, name)
				}
			}
		}
	}
	return needs
}

// condition finds the condition an outcome at position i with key refers
// to, by position first and by key if the caller reordered the outcome.
func (s *Set) condition(i int, key string) *condition {
	if i < len(s.conds) && s.conds[i].key == key {
		return &s.conds[i]
	}
	if ci, ok := s.index[key]; ok {
		return &s.conds[ci]
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Check reports the values in env that the Set treats as unknown although
// present: a value whose Go type does not match its variable's declared type
// (a Number must be a float64). Names that are not declared are ignored. It
// is meant for tests and checks of the code that builds environments;
// Evaluate does not need it.
func (s *Set) Check(env Env) error {
	var errs []error
	for _, name := range sortedNames(s.vars) {
		if v, ok := env[name]; ok && !s.vars[name].holds(v) {
			errs = append(errs, fmt.Errorf("variable %s: value of type %T, want %v", name, v, s.vars[name]))
		}
	}
	return errors.Join(errs...)
}
