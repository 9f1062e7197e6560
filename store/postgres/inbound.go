package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueInbound logs the message as said, with the bot's reply; a message
// id recorded before for the identity is a unique violation, which aborts
// the turn. The message is the only row it writes: a candidate's message
// makes an identity marked unreachable reachable again by being recorded
// after the mark (regbot_unreachable, migration 016). cand is the
// candidate's id when known (else found by identity).
//
// guard, when set, is the turn's application: the insert then raises the
// seq guard's RB409 when the application's seq is not t.Seq (or it is
// gone), as the application update does for a turn that changes it.
func queueInbound(b *pgx.Batch, t *store.Turn, cand *int64, guard *int64) {
	kind := "candidate"
	switch {
	case t.System:
		kind = "system"
	case t.Failed:
		kind = "failed"
	}
	switch {
	case cand != nil && guard != nil:
		b.Queue(insertInboundGuardedSQL, *cand, t.Identity.Channel, t.Identity.UserID, t.MsgID, t.Inbound, t.At,
			t.Reply, t.ReplyInline, kind, t.Seq, *guard)
	case cand != nil:
		b.Queue(insertInboundSQL, *cand, t.Identity.Channel, t.Identity.UserID, t.MsgID, t.Inbound, t.At,
			t.Reply, t.ReplyInline, kind)
	default:
		b.Queue(`
			insert into inbound_messages (candidate_id, channel, user_id, msg_id, text, at, reply, reply_inline, kind)
			select (select candidate_id from identities where channel = $1 and user_id = $2),
				$1, $2, $3, $4, $5, $6, $7, $8`,
			t.Identity.Channel, t.Identity.UserID, t.MsgID, t.Inbound, t.At, t.Reply, t.ReplyInline, kind)
	}
}

// insertInboundSQL records a message of a known candidate ($1);
// insertInboundGuardedSQL inserts only when the application ($11) holds
// the turn's seq ($10): the plain comparison first, the plpgsql guard
// (which raises RB409) only when it fails or the application is gone.
const (
	insertInboundInto    = `insert into inbound_messages (candidate_id, channel, user_id, msg_id, text, at, reply, reply_inline, kind)`
	insertInboundGuarded = ` select $1, $2, $3, $4, $5, $6, $7, $8, $9
		where coalesce((select a.seq = $10 from applications a where a.id = $11), false)
			or regbot_expect_seq((select a.seq from applications a where a.id = $11), $10)`

	insertInboundSQL        = insertInboundInto + ` values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	insertInboundGuardedSQL = insertInboundInto + insertInboundGuarded
)

// Reply returns what the bot answered the recorded message msgID of id and
// how many of its messages left inline (reply nil for messages recorded
// before replies were kept), or store.ErrNotFound.
func (s *Store) Reply(ctx context.Context, id store.Identity, msgID string) ([]byte, int, error) {
	var reply []byte
	var inline int
	err := s.db(ctx).QueryRow(ctx, `
		select reply, reply_inline from inbound_messages
		where channel = $1 and user_id = $2 and msg_id = $3 and msg_id <> ''`,
		id.Channel, id.UserID, msgID).Scan(&reply, &inline)
	if err != nil {
		return nil, 0, fmt.Errorf("reply: %w", translate(err))
	}
	return reply, inline, nil
}

// InboundMessages returns every message the identity's candidate sent, in
// the order recorded.
func (s *Store) InboundMessages(ctx context.Context, id store.Identity) ([]store.InboundMessage, error) {
	rows, err := s.pool.Query(ctx, `
		select msg_id, text, at, reply, reply_inline from inbound_messages
		where candidate_id = (select candidate_id from identities where channel = $1 and user_id = $2)
			and kind <> 'system'
		order by id`, id.Channel, id.UserID)
	if err != nil {
		return nil, fmt.Errorf("inbound messages: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboundMessage, error) {
		var m store.InboundMessage
		if err := r.Scan(&m.MsgID, &m.Text, &m.At, &m.Reply, &m.ReplyInline); err != nil {
			return m, err
		}
		var err error
		m.Text, err = s.openText(m.Text, adInbound)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("inbound messages: %w", err)
	}
	return msgs, nil
}
