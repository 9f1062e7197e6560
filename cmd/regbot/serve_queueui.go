package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

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
func newQueueUI(pool *pgxpool.Pool, log *slog.Logger) (*queueUI, error) {
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
	return &queueUI{h: h, log: log}, nil
}

// queueUI is the dashboard, started on its first request. Started, riverui
// counts the jobs by state every ~10 s and in full every 30 s or more (its
// cache for many viewers of a large queue); at start-up that work ran in
// every instance all the time, whether or not an admin ever opened the
// page. Not started yet, it counts when asked.
type queueUI struct {
	h   *riverui.Handler
	log *slog.Logger
	// ctx bounds the background work once started: the server's run
	// context, set by run before it serves (nil: never started, as in
	// the in-process tests that serve without run).
	ctx  context.Context
	once sync.Once
}

func (q *queueUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if q.ctx != nil {
		q.once.Do(func() {
			if err := q.h.Start(q.ctx); err != nil {
				q.log.Error("queue dashboard: its job counts are not cached", "err", err)
			}
		})
	}
	q.h.ServeHTTP(w, r)
}

// queueUIHandler is h as the console's optional handler (nil stays nil).
func queueUIHandler(h *queueUI) http.Handler {
	if h == nil {
		return nil
	}
	return h
}
