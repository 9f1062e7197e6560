package postgres

import (
	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueCancelReminders cancels the identity's reminders that are still
// waiting (store.Turn.CancelReminders): the answers they were based on
// changed. It runs before the turn's own outbox rows are queued.
func queueCancelReminders(b *pgx.Batch, id store.Identity) {
	b.Queue(`
		update outbox set state = 'cancelled', claimed_until = null, claimed_by = null
		where channel = $1 and user_id = $2 and kind = 'reminder' and state = 'pending'`,
		id.Channel, id.UserID)
}
