package postgres

import (
	"context"
	"fmt"
	"time"

	"regbot/store"
)

// MarkUnreachable records that the platform refuses to deliver to id (the
// user blocked the bot) from now on: until the candidate's next message on
// id, which nothing has to clear (regbot_unreachable, migration 016, reads
// the mark against the identity's latest message). The time is the
// process's clock, as the messages' are.
func (s *Store) MarkUnreachable(ctx context.Context, id store.Identity) error {
	_, err := s.pool.Exec(ctx, `
		update identities set unreachable_at = $3
		where channel = $1 and user_id = $2 and (unreachable_at is null or unreachable_at < $3)`,
		id.Channel, id.UserID, time.Now())
	if err != nil {
		return fmt.Errorf("mark unreachable: %w", translate(err))
	}
	return nil
}

// Unreachable reports whether id is unreachable: marked so after the
// candidate's last message on it.
func (s *Store) Unreachable(ctx context.Context, id store.Identity) (bool, error) {
	var unreachable bool
	err := s.pool.QueryRow(ctx, `
		select regbot_unreachable(candidate_id, channel, user_id, unreachable_at) from identities
		where channel = $1 and user_id = $2`,
		id.Channel, id.UserID).Scan(&unreachable)
	if err != nil {
		return false, fmt.Errorf("unreachable: %w", translate(err))
	}
	return unreachable, nil
}
