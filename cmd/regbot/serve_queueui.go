package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"riverqueue.com/riverui"

	"regbot/admin"
	"regbot/notify"
)

// newQueueUI is River's own dashboard (riverqueue.com/riverui) over the
// record's queue, which the console mounts for admins at
// admin.QueueUIPath (built only then, not by every command that opens the
// record). Its River client is never started: it only reads and
// changes jobs for the UI, the notifier's client works them.
func newQueueUI(pool *pgxpool.Pool, log *slog.Logger) (*riverui.Handler, error) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	schema, err := notify.CurrentSchema(ctx, pool)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("queue dashboard: %w", err)
	}
	quiet := notify.RiverLogger(log)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema, Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("queue dashboard: %w", err)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    quiet,
		Prefix:    admin.QueueUIPath,
		// A job's args are an outbox row's id: nothing personal, but
		// nothing worth a column either.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, fmt.Errorf("queue dashboard: %w", err)
	}
	return h, nil
}

// queueUIHandler is h as the console's optional handler (nil stays nil).
func queueUIHandler(h *riverui.Handler) http.Handler {
	if h == nil {
		return nil
	}
	return h
}
