package broadcasts

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"regbot/store"
)

// Fields are what a filter reads of one candidate: an expr-lang
// expression over these names, e.g.
//
//	status == "awaiting_payment" && days_waiting_payment >= 3
//	channel == "wechat" && !open_ticket && updated < now - duration("720h")
//
// Times compare with times (`created > date("2026-11-01")`), durations
// come from duration("…h").
type Fields struct {
	// Status is the application's status key (collecting, materials_ready,
	// under_review, rejected, awaiting_payment, paid, ticket_ready,
	// withdrawn).
	Status string `expr:"status"`
	// Condition is the eligibility condition chosen (C1…C4, "" undecided).
	Condition string `expr:"condition"`
	// Plan is the certification plan's id.
	Plan string `expr:"plan"`
	// Channel is where the message goes: wechat, telegram or web.
	Channel string `expr:"channel"`
	// Created and Updated are when the application was started and last
	// changed; StatusSince when it entered its status.
	Created     time.Time `expr:"created"`
	Updated     time.Time `expr:"updated"`
	StatusSince time.Time `expr:"status_since"`
	// DaysInStatus are whole days since StatusSince; DaysWaitingPayment the
	// same for awaiting_payment (0 in any other status).
	DaysInStatus       int `expr:"days_in_status"`
	DaysWaitingPayment int `expr:"days_waiting_payment"`
	// OpenTicket: a ticket of theirs is not closed.
	OpenTicket bool `expr:"open_ticket"`
	// Reachable: the channel did not report that they blocked the bot.
	Reachable bool `expr:"reachable"`
	// HasName: they told their name.
	HasName bool `expr:"has_name"`
	// Now is the time the filter is evaluated.
	Now time.Time `expr:"now"`
}

// FieldNames are the names a filter may use, for the console's help.
var FieldNames = []string{"status", "condition", "plan", "channel", "created", "updated", "status_since",
	"days_in_status", "days_waiting_payment", "open_ticket", "reachable", "has_name", "now"}

// FieldsOf are m's fields at now.
func FieldsOf(m store.AudienceMember, now time.Time) Fields {
	f := Fields{
		Status: string(m.Status), Condition: m.Condition, Plan: m.PlanID, Channel: m.Identity.Channel,
		Created: m.CreatedAt, Updated: m.UpdatedAt, StatusSince: m.StatusSince,
		OpenTicket: m.OpenTicket, Reachable: !m.Unreachable, HasName: m.Name != "", Now: now,
	}
	if !m.StatusSince.IsZero() && now.After(m.StatusSince) {
		f.DaysInStatus = int(now.Sub(m.StatusSince) / (24 * time.Hour))
	}
	if m.Status == store.StatusAwaitingPayment {
		f.DaysWaitingPayment = f.DaysInStatus
	}
	return f
}

// ErrFilter is wrapped by every error of a filter that does not compile:
// its message is expr's, position and all.
var ErrFilter = errors.New("filter")

// Filter is a compiled filter. It is safe for concurrent use.
type Filter struct {
	src  string
	prog *vm.Program
}

// CompileFilter type-checks src against Fields: an unknown name, a type
// mismatch or a result that is not a bool is an error wrapping ErrFilter
// with expr's message.
func CompileFilter(src string) (*Filter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("%w: empty (write true to choose every candidate)", ErrFilter)
	}
	prog, err := expr.Compile(src, expr.Env(Fields{}), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFilter, err)
	}
	return &Filter{src: src, prog: prog}, nil
}

// String is the filter's source.
func (f *Filter) String() string { return f.src }

// Match reports whether f chooses a candidate with fields v.
func (f *Filter) Match(v Fields) (bool, error) {
	out, err := expr.Run(f.prog, v)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrFilter, err)
	}
	ok, _ := out.(bool)
	return ok, nil
}
