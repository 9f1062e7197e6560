// Package rules compiles a plan's eligibility conditions and evaluates them
// with partial knowledge.
//
// A condition is a list of clauses, each an expr-lang expression over typed
// variables (the plan's slots and derived values); it holds when every clause
// holds. [Compile] type-checks every clause against the declared [Vars] once,
// at start-up, and reports every problem at once, so a typo in a plan stops
// start-up with the rule's name instead of breaking a conversation.
//
// Evaluation is three-valued. The [Env] holds only the answers known so far;
// a clause that reads an absent variable is [Unknown] and is not run (except
// that the top-level "&&", "||" and "!" of a clause are evaluated with
// Kleene logic, so `has_prior_cert && x` already fails when has_prior_cert is
// false). A condition [Fails] as soon as one clause fails, [Holds] when all
// hold, and is [Unknown] otherwise. [Set.Needs] then lists the variables that
// can still change the outcome: what the dialog should ask next.
//
// A [Set] is immutable after [Compile] and safe for concurrent use.
package rules
