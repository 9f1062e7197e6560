package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// outcome is what one delivery attempt came to, for whoever runs it (the
// fast path, River, the memory queue).
type outcome struct {
	// settlement is what the record keeps of it.
	settlement store.Settlement
	// wait > 0: try again after it without counting an attempt (rate
	// limited: the platform's retry_after).
	wait time.Duration
	// retry: a transient failure; try again after the back-off.
	retry bool
	// err is the failure, if any.
	err error
}

// send delivers one claimed row on its channel and classifies the result.
// lastChance turns a transient failure into a final one (out of attempts).
func (n *Notifier) send(ctx context.Context, d store.Delivery, unreachable, lastChance bool) outcome {
	res := store.Settlement{ID: d.ID, PartsSent: d.PartsSent}
	final := func(state store.DeliveryState, tried bool, err error) outcome {
		res.State, res.Tried, res.Error, res.Permanent = state, tried, errText(err), true
		res.At = n.now()
		return outcome{settlement: res, err: err}
	}
	if unreachable {
		return final(store.DeliverySkipped, false, bot.ErrUnreachable)
	}
	sender, ok := n.senders[d.Identity.Channel]
	if !ok {
		return final(store.DeliveryFailed, false, fmt.Errorf("no sender for channel %q", d.Identity.Channel))
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.SendTimeout)
	defer cancel()
	msgs, err := n.messages(ctx, d)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errUnreadable):
		return final(store.DeliveryFailed, false, err)
	case err != nil:
		// The blob store failed: as transient as a network error.
		res.State, res.Tried, res.Error, res.At = store.DeliveryPending, true, errText(err), n.now()
		return n.transient(res, err, lastChance)
	}
	done, err := sender.Deliver(ctx, bot.Delivery{UserID: d.Identity.UserID, Kind: d.Kind, Messages: msgs, Done: d.PartsSent})
	res.PartsSent = max(done, d.PartsSent)
	res.Tried, res.At, res.Error = true, n.now(), errText(err)
	var limited *bot.RateLimitedError
	switch {
	case err == nil:
		res.State = store.DeliverySent
		return outcome{settlement: res}
	case errors.Is(err, bot.ErrUnreachable):
		res.State, res.Permanent, res.Unreachable = store.DeliveryFailed, true, true
		return outcome{settlement: res, err: err}
	case errors.Is(err, bot.ErrPermanent):
		res.State, res.Permanent = store.DeliveryFailed, true
		return outcome{settlement: res, err: err}
	case errors.Is(err, bot.ErrWindowClosed):
		res.State, res.Permanent = store.DeliverySkipped, true
		return outcome{settlement: res, err: err}
	case errors.As(err, &limited):
		res.State = store.DeliveryPending
		return outcome{settlement: res, wait: max(limited.RetryAfter, time.Second), err: err}
	}
	res.State = store.DeliveryPending
	return n.transient(res, err, lastChance)
}

// transient is the outcome of a failure that may pass.
func (n *Notifier) transient(res store.Settlement, err error, lastChance bool) outcome {
	if lastChance {
		res.State, res.Permanent = store.DeliveryFailed, true
		res.Error = fmt.Sprintf("gave up after %d attempts: %s", n.cfg.MaxAttempts, res.Error)
		return outcome{settlement: res, err: err}
	}
	return outcome{settlement: res, retry: true, err: err}
}

// errUnreadable is a payload that cannot be decoded: it never will be.
var errUnreadable = errors.New("unreadable message payload")

// messages decodes a row's payload (or takes the messages the turn that
// queued it left on it) and loads their images.
func (n *Notifier) messages(ctx context.Context, d store.Delivery) ([]dialogs.Outbound, error) {
	msgs, ok := d.Messages.([]dialogs.Outbound)
	if ok {
		msgs = slices.Clone(msgs) // images are loaded into copies below
	} else {
		var err error
		if msgs, err = dialogs.DecodeMessages(d.Payload); err != nil {
			return nil, fmt.Errorf("%w: %w", errUnreadable, err)
		}
	}
	for i := range msgs {
		img := msgs[i].Image
		if img == nil || img.Ref == "" || len(img.Data) > 0 {
			continue
		}
		c := *img
		img = &c
		msgs[i].Image = img
		if n.blobs == nil {
			return nil, fmt.Errorf("image %s: %w (no blob store)", img.Ref, store.ErrNotFound)
		}
		data, err := n.blobs.Get(ctx, img.Ref)
		if err != nil {
			return nil, fmt.Errorf("load image: %w", err)
		}
		img.Data = data
	}
	return msgs, nil
}

// errText is the text kept of a failure ("" for none).
func errText(err error) string {
	if err == nil {
		return ""
	}
	const max = 500
	s := err.Error()
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// backoff is the wait after the attempt-th failed attempt: RetryBackoff,
// doubled each time up to MaxRetryWait, ±20% so that a burst of failures
// does not come back as a burst.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.cfg.RetryBackoff
	for i := 1; i < attempt && d < n.cfg.MaxRetryWait; i++ {
		d *= 2
	}
	d = min(d, n.cfg.MaxRetryWait)
	return d - d/5 + time.Duration(rand.Int64N(int64(d)*2/5+1))
}

// verdict is what the queue does after one run of a job.
type verdict struct {
	// done: nothing more (sent, given up, cancelled, gone); err is the
	// final failure when there was one.
	done bool
	// wait > 0: run again after it, not counted as an attempt.
	wait time.Duration
	// err without done: the attempt failed; run again after the back-off.
	err error
}

// work is one run of a queue job for the outbox row id: the attempt-th of
// at most maxAttempts. It claims the row (waiting while an earlier message
// of the identity is pending, or while someone else holds it), sends it and
// records the outcome.
func (n *Notifier) work(ctx context.Context, id int64, attempt, maxAttempts int) verdict {
	lease := 2 * n.cfg.SendTimeout
	c, err := n.rec.ClaimDelivery(ctx, id, n.queueOwner, lease)
	if err != nil {
		// The record is out of reach: wait without using up an attempt.
		n.log.Warn("outbox row not claimed", "outbox_id", id, "err", err)
		return verdict{wait: n.cfg.RetryBackoff}
	}
	now := n.now()
	switch c.State {
	case store.ClaimDone:
		return verdict{done: true}
	case store.ClaimBlocked:
		n.metrics.waits.WithLabelValues("order").Inc()
		return verdict{wait: n.cfg.OrderWait}
	case store.ClaimEarly, store.ClaimHeld:
		n.metrics.waits.WithLabelValues("claim").Inc()
		return verdict{wait: max(c.Until.Sub(now), 0) + 100*time.Millisecond}
	}
	out := n.send(ctx, c.Delivery, c.Unreachable, attempt >= maxAttempts)
	// The outcome is written before the job ends. If the record stays out
	// of reach, the job runs again once the claim expired: a message sent
	// twice rather than a row left pending for ever.
	next, err := n.settleNow(ctx, n.queueOwner, out.settlement)
	if err != nil {
		n.log.Error("outbox outcome not recorded", "outbox_id", id, "state", out.settlement.State, "err", err)
		return verdict{wait: n.cfg.RetryBackoff}
	}
	n.observe("queue", c.Delivery.Identity.Channel, out)
	if out.settlement.State == store.DeliverySent && next != 0 {
		n.chain(ctx, c.Delivery.Identity.Channel, next)
	}
	switch {
	case out.wait > 0:
		return verdict{wait: out.wait}
	case out.retry:
		n.log.Warn("outbox delivery failed; will retry", "outbox_id", id, "channel", c.Delivery.Identity.Channel,
			"attempt", attempt, "err", out.err)
		return verdict{err: out.err}
	case out.err != nil:
		n.log.Warn("outbox delivery given up", "outbox_id", id, "channel", c.Delivery.Identity.Channel,
			"state", out.settlement.State, "err", out.err)
		return verdict{done: true, err: out.err}
	}
	return verdict{done: true}
}

// settleNow records one outcome, trying a few times over a few seconds
// when the record fails, and returns the identity's next pending row.
func (n *Notifier) settleNow(ctx context.Context, owner string, res store.Settlement) (int64, error) {
	ctx = context.WithoutCancel(ctx)
	var err error
	for i, wait := range []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second} {
		if i > 0 {
			time.Sleep(wait)
		}
		var next int64
		if next, err = n.rec.SettleDelivery(ctx, owner, res); err == nil {
			return next, nil
		}
	}
	return 0, err
}

// chainMax bounds how many of an identity's next rows one queue run
// delivers after its own.
const chainMax = 20

// chain delivers an identity's pending rows from next on, as long as they
// go out: they would otherwise wait for their own jobs to look again
// (order_wait) one after the other. It stops at the first row it cannot
// claim or send; that row's own job takes it from there (the attempt made
// here is recorded like any other).
func (n *Notifier) chain(ctx context.Context, channel string, next int64) {
	for range chainMax {
		c, err := n.rec.ClaimDelivery(ctx, next, n.queueOwner, 2*n.cfg.SendTimeout)
		if err != nil || c.State != store.ClaimTaken {
			return
		}
		out := n.send(ctx, c.Delivery, c.Unreachable, false)
		after, err := n.settleNow(ctx, n.queueOwner, out.settlement)
		if err != nil {
			n.log.Error("outbox outcome not recorded", "outbox_id", next, "state", out.settlement.State, "err", err)
			return
		}
		n.observe("queue", channel, out)
		if out.settlement.State != store.DeliverySent || after == 0 {
			return
		}
		next = after
	}
}
