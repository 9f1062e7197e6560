package bot

import (
	"errors"
	"fmt"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// Delivery is one outbox message on its way to a candidate, as a channel
// adapter sends it (notify hands it over; the adapter renders it).
type Delivery struct {
	// UserID is the candidate's id on the channel (OpenID, chat id,
	// visitor id).
	UserID string
	// Kind says why the message exists; an adapter may render kinds
	// differently (WeChat: the template for messages outside the 48-hour
	// window).
	Kind store.OutKind
	// Messages are the bot messages in order; images carry their bytes.
	Messages []dialogs.Outbound
	// Done is how many of the channel's sends for Messages went out in
	// earlier attempts: the adapter renders the same sends and skips them.
	Done int
}

// The failures of a send that are not worth trying again as they are. An
// adapter wraps its error with one of them; anything else is transient (a
// network error, a 5xx, a platform's "system busy"), or a
// *RateLimitedError.
var (
	// ErrUnreachable: the candidate cannot be reached on this channel until
	// they write again (blocked the bot, unsubscribed, unknown user). The
	// identity is marked unreachable.
	ErrUnreachable = errors.New("recipient unreachable")
	// ErrPermanent: this message can never be sent as it is (refused as
	// malformed, the account may not use the API).
	ErrPermanent = errors.New("permanent send failure")
	// ErrWindowClosed: the platform only takes this message within a
	// window after the candidate's last message (WeChat's 48 hours), and no
	// replacement (a template) is configured. The message is skipped.
	ErrWindowClosed = errors.New("outside the platform's reply window")
)

// Refused reports whether err refuses one message (ErrPermanent) rather
// than the candidate (ErrUnreachable): an adapter's Deliver skips such a
// message and sends the ones after it, then returns the refusal, so the
// row settles failed with its reason and the candidate still gets the rest.
func Refused(err error) bool {
	return errors.Is(err, ErrPermanent) && !errors.Is(err, ErrUnreachable)
}

// RateLimitedError is a send the platform refused for now (Telegram's 429,
// WeChat's frequency limits): try again after RetryAfter.
type RateLimitedError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.RetryAfter, e.Err)
}

func (e *RateLimitedError) Unwrap() error { return e.Err }
