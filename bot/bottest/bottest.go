// Package bottest builds, for the channel adapters' tests, the real stack a
// channel runs in front of: the embedded plan, the engine with the real
// photo checks and fixer, and a Router on the embedded memory store, with
// today fixed so conversations are reproducible.
package bottest

import (
	"log/slog"
	"testing"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
	"regbot/store/memory"
)

// Today is the stack's fixed date.
var Today = time.Date(2026, 11, 28, 12, 0, 0, 0, dialogs.ChinaTime)

// Stack is the real dialog on the embedded store, as `regbot chat` builds it.
type Stack struct {
	Plan   *dialogs.Plan
	Engine *dialogs.Engine
	Mem    *memory.Store
	Router *bot.Router
}

// New builds a Stack; it fails t if the embedded plan does not load.
func New(t testing.TB) *Stack {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	engine, err := dialogs.NewEngine(plan, dialogs.Options{
		Now:       func() time.Time { return Today },
		Inspector: materials.NewInspector(plan.Texts),
		Fixer:     materials.NewFixer(plan.Texts),
		Log:       log,
	})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	router := bot.NewRouter(engine, bot.Deps{Fast: mem, Record: mem}, log)
	return &Stack{Plan: plan, Engine: engine, Mem: mem, Router: router}
}
