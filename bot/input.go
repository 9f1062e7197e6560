package bot

import (
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"regbot/dialogs"
	"regbot/store"
)

// ErrBadInput is returned by Handle for a message whose identity or message
// id is not acceptable (empty, too long, NUL, invalid UTF-8): nothing is
// recorded and the adapter refuses it (HTTP 400). It is store.ErrBadInput.
var ErrBadInput = store.ErrBadInput

// errPanic marks a turn whose engine panicked: the same message would
// panic again.
var errPanic = errors.New("engine panic")

// cleanInbound checks in's identity and message id and makes its texts safe
// to read and store: invalid UTF-8 and NUL are replaced (store.CleanText),
// and a text is cut to what the record keeps (store.RecordedText). It
// reports whether the text is over the engine's MaxMessageRunes.
func (r *Router) cleanInbound(in *dialogs.Inbound) (tooLong bool, err error) {
	if err := in.Identity().Check(); err != nil {
		return false, err
	}
	if err := store.CheckMsgID(in.MsgID); err != nil {
		return false, err
	}
	in.Text = store.RecordedText(in.Text)
	in.Choice = store.RecordedText(in.Choice)
	in.Other = store.CleanText(in.Other)
	in.Event = store.CleanText(in.Event)
	if in.Image != nil && !utf8.ValidString(in.Image.Name) || in.Image != nil && len(in.Image.Name) > 256 {
		img := *in.Image
		img.Name = store.RecordedText(img.Name)
		if len(img.Name) > 256 {
			img.Name = "image"
		}
		in.Image = &img
	}
	if s := in.System; s != nil {
		c := *s
		c.Actor, c.Reason, c.Reply = store.CleanText(c.Actor), store.RecordedText(c.Reason), store.RecordedText(c.Reply)
		c.PaymentURL, c.Ticket = store.CleanText(c.PaymentURL), store.CleanText(c.Ticket)
		if len(c.Reopen) > 0 {
			c.Reopen = slices.Clone(c.Reopen)
			for i, k := range c.Reopen {
				c.Reopen[i] = store.CleanText(k)
			}
		}
		in.System = &c
	}
	return utf8.RuneCountInString(in.Text) > r.engine.MaxMessageRunes(), nil
}

// held is a message the engine does not read: it is recorded as said and
// answered with reply (none: no answer).
type held struct {
	on    bool
	reply []dialogs.Outbound
	// failed records the message as failed (its turn failed for good).
	failed bool
}

// hold says whether the engine reads the message: not when the text is too
// long, nor over the rate limit (the first refusal of a run is told to
// slow down).
func (r *Router) hold(tooLong, limited, notify bool) held {
	switch {
	case tooLong:
		return held{on: true, reply: []dialogs.Outbound{r.engine.TooLong()}}
	case limited && notify:
		return held{on: true, reply: []dialogs.Outbound{r.engine.SlowDown()}}
	case limited:
		return held{on: true}
	}
	return held{}
}

// failedHold is how a message whose turn failed for good is recorded: as
// said, kind failed, with one apology.
func (r *Router) failedHold() held {
	return held{on: true, failed: true, reply: []dialogs.Outbound{r.engine.TurnFailed()}}
}

// permanent reports whether a turn's error would come again with the same
// message (the record refused its data, the engine panicked), as opposed
// to a transient failure (the database is down, a deadline passed) that
// the platform's retry may get past.
func permanent(err error) bool {
	return errors.Is(err, store.ErrRefused) || errors.Is(err, errPanic)
}

// handleEngine runs the engine, turning a panic into an errPanic error.
func (r *Router) handleEngine(run func() (dialogs.Result, error)) (res dialogs.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return run()
}
