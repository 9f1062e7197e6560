package postgres

import (
	"context"
	"fmt"

	"regbot/store"
)

// MarkUnreachable records that the platform refuses to deliver to id (the
// user blocked the bot). The next turn of id clears it.
func (s *Store) MarkUnreachable(ctx context.Context, id store.Identity) error {
	_, err := s.pool.Exec(ctx, `
		update identities set unreachable_at = now()
		where channel = $1 and user_id = $2 and unreachable_at is null`, id.Channel, id.UserID)
	if err != nil {
		return fmt.Errorf("mark unreachable: %w", translate(err))
	}
	return nil
}

// Unreachable reports whether id is marked unreachable.
func (s *Store) Unreachable(ctx context.Context, id store.Identity) (bool, error) {
	var unreachable bool
	err := s.pool.QueryRow(ctx, `
		select unreachable_at is not null from identities where channel = $1 and user_id = $2`,
		id.Channel, id.UserID).Scan(&unreachable)
	if err != nil {
		return false, fmt.Errorf("unreachable: %w", translate(err))
	}
	return unreachable, nil
}
