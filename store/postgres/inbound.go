package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueInbound logs the message as said; a message id recorded before for
// the identity is a unique violation, which aborts the turn.
func queueInbound(b *pgx.Batch, id store.Identity, msgID, text string, at time.Time) {
	b.Queue(`
		insert into inbound_messages (candidate_id, channel, user_id, msg_id, text, at)
		select candidate_id, $1, $2, $3, $4, $5 from identities where channel = $1 and user_id = $2`,
		id.Channel, id.UserID, msgID, text, at)
}

// InboundMessages returns every message the identity's candidate sent, in
// the order recorded.
func (s *Store) InboundMessages(ctx context.Context, id store.Identity) ([]store.InboundMessage, error) {
	rows, err := s.pool.Query(ctx, `
		select msg_id, text, at from inbound_messages
		where candidate_id = (select candidate_id from identities where channel = $1 and user_id = $2)
		order by id`, id.Channel, id.UserID)
	if err != nil {
		return nil, fmt.Errorf("inbound messages: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboundMessage, error) {
		var m store.InboundMessage
		err := r.Scan(&m.MsgID, &m.Text, &m.At)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("inbound messages: %w", err)
	}
	return msgs, nil
}
