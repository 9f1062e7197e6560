package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"

	"regbot/bot"
)

// Deliver sends one outbox message (notify's Sender): d's messages
// rendered as for replies (sends), skipping the first d.Done Bot API calls
// (made by an earlier attempt), each call tried once; notify decides about
// retries. It returns how many calls are done in all, and an error
// classified for notify: a 429 is a *bot.RateLimitedError with Telegram's
// retry_after, a 403 (the user blocked the bot) and "chat not found" are
// bot.ErrUnreachable, another 400 is bot.ErrPermanent; anything else is
// transient. A call Telegram refuses for its content (a 400 other than
// "chat not found") is skipped and the calls after it still go, as in
// replies (send); Deliver then returns the refusal with the calls it is
// done with (bot.Refused).
func (a *Adapter) Deliver(ctx context.Context, d bot.Delivery) (int, error) {
	chatID, err := strconv.ParseInt(d.UserID, 10, 64)
	if err != nil {
		return d.Done, fmt.Errorf("telegram: user id %q is not a chat id: %w", d.UserID, bot.ErrPermanent)
	}
	var calls []apiSend
	for _, m := range d.Messages {
		calls = append(calls, a.sends(chatID, m)...)
	}
	var refused error
	for i := d.Done; i < len(calls); i++ {
		err := a.deliverCall(ctx, calls[i])
		if bot.Refused(err) {
			if refused == nil {
				refused = err
			}
			continue
		}
		if err != nil {
			return i, err
		}
	}
	return len(calls), refused
}

// deliverCall makes one call and classifies its failure.
func (a *Adapter) deliverCall(ctx context.Context, s apiSend) error {
	err := s.do(ctx)
	if err == nil {
		return nil
	}
	var tooMany *tgbot.TooManyRequestsError
	switch {
	case errors.As(err, &tooMany):
		a.failures.WithLabelValues(s.method, "rate_limited").Inc()
		return &bot.RateLimitedError{RetryAfter: time.Duration(max(tooMany.RetryAfter, 1)) * time.Second,
			Err: fmt.Errorf("telegram %s: %w", s.method, err)}
	case errors.Is(err, tgbot.ErrorForbidden):
		a.failures.WithLabelValues(s.method, "forbidden").Inc()
		return fmt.Errorf("telegram %s: %w: %w", s.method, bot.ErrUnreachable, err)
	case errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "chat not found"):
		a.failures.WithLabelValues(s.method, "forbidden").Inc()
		return fmt.Errorf("telegram %s: %w: %w", s.method, bot.ErrUnreachable, err)
	case errors.Is(err, tgbot.ErrorBadRequest):
		a.failures.WithLabelValues(s.method, "bad_request").Inc()
		return fmt.Errorf("telegram %s: %w: %w", s.method, bot.ErrPermanent, err)
	}
	a.failures.WithLabelValues(s.method, "other").Inc()
	return fmt.Errorf("telegram %s: %w", s.method, err)
}
