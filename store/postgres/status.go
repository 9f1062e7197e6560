package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// StatusEvents returns the status history of the identity's application to
// plan, oldest first.
func (s *Store) StatusEvents(ctx context.Context, id store.Identity, planID string) ([]store.StatusEvent, error) {
	rows, err := s.pool.Query(ctx, `
		select coalesce(from_status, ''), to_status, actor, reason, at
		from status_events where application_id = `+applicationOf+`
		order by id`, id.Channel, id.UserID, planID)
	if err != nil {
		return nil, fmt.Errorf("status events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StatusEvent, error) {
		var e store.StatusEvent
		var from, to string
		err := r.Scan(&from, &to, &e.Actor, &e.Reason, &e.At)
		e.From, e.To = store.Status(from), store.Status(to)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("status events: %w", err)
	}
	return events, nil
}
