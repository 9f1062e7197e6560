package rules

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Type is the type of a variable in the rule environment.
type Type int

// The variable types. A Number value is a float64.
const (
	Bool Type = iota + 1
	Number
	String
)

// String returns the type's name as used in error messages.
func (t Type) String() string {
	switch t {
	case Bool:
		return "bool"
	case Number:
		return "number"
	case String:
		return "string"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// zero returns the type's zero value, which declares the variable to expr.
func (t Type) zero() (any, bool) {
	switch t {
	case Bool:
		return false, true
	case Number:
		return 0.0, true
	case String:
		return "", true
	}
	return nil, false
}

// holds reports whether v is a value of type t.
func (t Type) holds(v any) bool {
	switch v.(type) {
	case bool:
		return t == Bool
	case float64:
		return t == Number
	case string:
		return t == String
	}
	return false
}

// Vars declares every variable a rule may read, with its type.
type Vars map[string]Type

// ConditionSpec is one condition: a key (e.g. "C3") and its clauses; the
// condition holds when every clause holds.
type ConditionSpec struct {
	Key     string
	Clauses []string
}

// Errors Compile reports, wrapped in a [*ClauseError]; match them with
// errors.Is. Errors from expr itself (unknown names, type errors, non-bool
// results) are wrapped as they are.
var (
	// ErrEmptyClause is a clause that is empty or only blanks.
	ErrEmptyClause = errors.New("empty clause")
	// ErrNoClauses is a condition without clauses (it would always hold).
	ErrNoClauses = errors.New("no clauses")
	// ErrDuplicateKey is a condition key used twice.
	ErrDuplicateKey = errors.New("duplicate condition key")
	// ErrEmptyKey is a condition without a key.
	ErrEmptyKey = errors.New("empty condition key")
	// ErrEnvVariable is a clause using $env, which would hide the variables
	// it reads from Needs.
	ErrEnvVariable = errors.New("$env is not supported: name the variables")
)

// ClauseError is one problem Compile found in a condition or one of its
// clauses.
type ClauseError struct {
	// Key is the condition's key.
	Key string
	// Clause is the clause number, 1-based; 0 when the problem is the
	// condition itself (its key, or no clauses).
	Clause int
	// Source is the clause text.
	Source string
	// Err is the cause: expr's error or one of the Err* values above.
	Err error
}

// Error names the condition, the clause number and text, and the cause on
// one line, e.g. `condition C3 clause 3 "training_hour >= 104": unknown
// name training_hour (1:1)`.
func (e *ClauseError) Error() string {
	msg := e.Err.Error()
	var fe *file.Error
	if errors.As(e.Err, &fe) {
		// expr's own Error() appends a multi-line snippet; the clause text is
		// already quoted, so the position is enough.
		msg = fmt.Sprintf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1)
	}
	if e.Clause == 0 {
		return fmt.Sprintf("condition %s: %s", e.Key, msg)
	}
	return fmt.Sprintf("condition %s clause %d %q: %s", e.Key, e.Clause, e.Source, msg)
}

// Unwrap returns the cause.
func (e *ClauseError) Unwrap() error { return e.Err }

// Set is a compiled list of conditions. It is immutable and safe for
// concurrent use.
type Set struct {
	conds []condition
	index map[string]int // condition key → position
	names []string       // every variable some clause reads, first-seen order
	types []Type         // types[i] is the type of names[i]
	vars  Vars           // every declared variable
	pool  sync.Pool      // *scratch
}

type condition struct {
	key     string
	clauses []clause
}

type clause struct {
	prog  *vm.Program
	reads []int // indexes into Set.names, in the order the clause reads them
	// logic is the clause split at its top-level "&&", "||" and "!", for
	// evaluation with unknowns; nil when the clause has no such operator.
	logic *logicNode
	// atLeast is set for a clause of the form `name >= number` (or `>`),
	// so that Shortfall can say how far a candidate is from it.
	atLeast *threshold
}

type threshold struct {
	name string
	min  float64
}

// logicNode is a node of a clause's boolean skeleton: an operator over
// sub-nodes, or a leaf compiled on its own.
type logicNode struct {
	op          logicOp
	left, right *logicNode // right is nil for opNot
	prog        *vm.Program
	reads       []int
}

type logicOp uint8

const (
	opLeaf logicOp = iota
	opAnd
	opOr
	opNot
)

// scratch is the per-evaluation state: expr's VM is not safe for concurrent
// use, so each evaluation borrows one from the Set's pool.
type scratch struct {
	vm    vm.VM
	known []bool // known[i]: Set.names[i] has a value of its type in the env
}

// Compile type-checks and compiles every clause of conds against vars. It
// reports every problem at once (errors.Join of [*ClauseError]s and variable
// errors): unknown names, type errors, non-bool results, empty clauses,
// conditions without clauses, empty and duplicate keys.
func Compile(vars Vars, conds []ConditionSpec) (*Set, error) {
	var errs []error
	env := make(map[string]any, len(vars))
	for _, name := range sortedNames(vars) {
		zero, ok := vars[name].zero()
		if !ok {
			errs = append(errs, fmt.Errorf("variable %s: unknown type %v", name, vars[name]))
			continue
		}
		env[name] = zero
	}
	opts := []expr.Option{expr.Env(env), expr.AsBool()}

	s := &Set{index: make(map[string]int, len(conds)), vars: make(Vars, len(vars))}
	for name, t := range vars {
		s.vars[name] = t
	}
	varIndex := map[string]int{}
	intern := func(name string) int {
		if i, ok := varIndex[name]; ok {
			return i
		}
		varIndex[name] = len(s.names)
		s.names = append(s.names, name)
		s.types = append(s.types, vars[name])
		return len(s.names) - 1
	}

	for ci, spec := range conds {
		label := spec.Key
		if label == "" {
			label = fmt.Sprintf("#%d", ci+1)
		}
		condErr := func(err error) {
			errs = append(errs, &ClauseError{Key: label, Err: err})
		}
		switch first, dup := s.index[spec.Key]; {
		case spec.Key == "":
			condErr(ErrEmptyKey)
		case dup:
			condErr(fmt.Errorf("%w (also condition #%d)", ErrDuplicateKey, first+1))
		default:
			s.index[spec.Key] = ci
		}
		if len(spec.Clauses) == 0 {
			condErr(ErrNoClauses)
		}
		c := condition{key: spec.Key, clauses: make([]clause, 0, len(spec.Clauses))}
		for j, src := range spec.Clauses {
			cl, err := compileClause(src, vars, opts, intern)
			if err != nil {
				errs = append(errs, &ClauseError{Key: label, Clause: j + 1, Source: src, Err: err})
				continue
			}
			c.clauses = append(c.clauses, cl)
		}
		s.conds = append(s.conds, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	n := len(s.names)
	s.pool.New = func() any { return &scratch{known: make([]bool, n)} }
	return s, nil
}

// compileClause compiles one clause, lists the variables it reads and, when
// it has top-level boolean operators, compiles its skeleton.
func compileClause(src string, vars Vars, opts []expr.Option, intern func(string) int) (clause, error) {
	if strings.TrimSpace(src) == "" {
		return clause{}, ErrEmptyClause
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return clause{}, err
	}
	tree, err := parser.Parse(src)
	if err != nil { // expr.Compile parsed it already
		return clause{}, err
	}
	names, usesEnv := readNames(&tree.Node, vars)
	if usesEnv {
		return clause{}, ErrEnvVariable
	}
	cl := clause{prog: prog, atLeast: thresholdOf(tree.Node)}
	for _, name := range names {
		cl.reads = append(cl.reads, intern(name))
	}
	if isLogic(tree.Node) {
		if l := compileLogic(tree.Node, vars, opts, intern); l != nil && l.op != opLeaf {
			cl.logic = l
		}
	}
	return cl, nil
}

// readNames lists the declared variables a clause's AST reads, in source
// order without repeats, and reports whether it uses $env (expr refuses a
// `let` that would shadow a variable, so every declared name is a read).
func readNames(node *ast.Node, vars Vars) (names []string, usesEnv bool) {
	var w identWalker
	ast.Walk(node, &w)
	for _, id := range w.idents {
		if id == "$env" {
			usesEnv = true
			continue
		}
		if _, ok := vars[id]; !ok || slices.Contains(names, id) {
			continue
		}
		names = append(names, id)
	}
	return names, usesEnv
}

type identWalker struct {
	idents []string
}

// Visit records identifiers. ast.Walk visits children before their parent,
// so identifiers come in source order.
func (w *identWalker) Visit(node *ast.Node) {
	if n, ok := (*node).(*ast.IdentifierNode); ok {
		w.idents = append(w.idents, n.Value)
	}
}

// isLogic reports whether node is a boolean operator the skeleton splits.
func isLogic(node ast.Node) bool {
	switch n := node.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			return true
		}
	case *ast.UnaryNode:
		return n.Operator == "!" || n.Operator == "not"
	}
	return false
}

// compileLogic builds the boolean skeleton of node. An operand that does
// not compile as a bool expression on its own stays inside a larger leaf,
// so the skeleton never changes what the clause means.
func compileLogic(node ast.Node, vars Vars, opts []expr.Option, intern func(string) int) *logicNode {
	if isLogic(node) {
		switch n := node.(type) {
		case *ast.BinaryNode:
			l := compileLogic(n.Left, vars, opts, intern)
			r := compileLogic(n.Right, vars, opts, intern)
			if l != nil && r != nil {
				op := opAnd
				if n.Operator == "||" || n.Operator == "or" {
					op = opOr
				}
				return &logicNode{op: op, left: l, right: r}
			}
		case *ast.UnaryNode:
			if sub := compileLogic(n.Node, vars, opts, intern); sub != nil {
				return &logicNode{op: opNot, left: sub}
			}
		}
	}
	src := node.String()
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil
	}
	names, usesEnv := readNames(&node, vars)
	if usesEnv {
		return nil
	}
	leaf := &logicNode{op: opLeaf, prog: prog}
	for _, name := range names {
		leaf.reads = append(leaf.reads, intern(name))
	}
	return leaf
}

func sortedNames(vars Vars) []string {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Keys returns the condition keys in order.
func (s *Set) Keys() []string {
	keys := make([]string, len(s.conds))
	for i, c := range s.conds {
		keys[i] = c.key
	}
	return keys
}

// Reads returns the variable names clause i (0-based, as in
// [ConditionOutcome].Clauses) of condition key reads, in the order the clause
// reads them; nil for an unknown key or clause.
func (s *Set) Reads(key string, i int) []string {
	ci, ok := s.index[key]
	if !ok || i < 0 || i >= len(s.conds[ci].clauses) {
		return nil
	}
	reads := s.conds[ci].clauses[i].reads
	names := make([]string, len(reads))
	for k, r := range reads {
		names[k] = s.names[r]
	}
	return names
}

// thresholdOf recognises `name >= number` and `name > number`.
func thresholdOf(node ast.Node) *threshold {
	b, ok := node.(*ast.BinaryNode)
	if !ok || (b.Operator != ">=" && b.Operator != ">") {
		return nil
	}
	id, ok := b.Left.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	switch r := b.Right.(type) {
	case *ast.IntegerNode:
		return &threshold{name: id.Value, min: float64(r.Value)}
	case *ast.FloatNode:
		return &threshold{name: id.Value, min: r.Value}
	}
	return nil
}

// Shortfall says how far env is from satisfying clause i of condition key,
// from 0 (holds) to 1 (entirely missing). A threshold clause `x >= n` whose x
// is known scores the missing fraction (n-x)/n, so "96 of 104 hours" is nearer
// than "2 of 4 years"; any other failing or unknown clause scores 1.
func (s *Set) Shortfall(key string, i int, env Env) float64 {
	ci, ok := s.index[key]
	if !ok || i < 0 || i >= len(s.conds[ci].clauses) {
		return 1
	}
	cl := s.conds[ci].clauses[i]
	if t := cl.atLeast; t != nil && t.min > 0 {
		if v, ok := env[t.name].(float64); ok {
			return max(0, min(1, (t.min-v)/t.min))
		}
	}
	return 1
}
