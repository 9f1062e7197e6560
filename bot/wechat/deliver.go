package wechat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"regbot/bot"
)

// Deliver sends one outbox message (notify's Sender): d's messages as at
// most five customer-service messages, skipping the first d.Done of them
// (sent by an earlier attempt), each tried once; notify decides about
// retries. When WeChat refuses a customer-service message because the
// candidate wrote last more than 48 hours ago (45015) or used up the
// messages allowed per message of theirs (45047), the rest goes as one
// template message: the template named like d.Kind ("notification",
// "reminder", "staff", "broadcast", "reply") when configured, else
// "fallback". It returns how many customer-service messages are done in
// all, and an error classified for notify (see classify). A part WeChat
// refuses for its content is skipped and the parts after it still go;
// Deliver then returns the refusal with the parts it is done with
// (bot.Refused).
func (a *Adapter) Deliver(ctx context.Context, d bot.Delivery) (int, error) {
	parts, dropped := customerParts(d.Messages)
	if dropped > 0 {
		a.metrics.undelivered.WithLabelValues("too_many").Add(float64(dropped))
	}
	var refused error
	for i := d.Done; i < len(parts); i++ {
		err := a.sendPart(ctx, d.UserID, &parts[i])
		switch {
		case err == nil:
			continue
		case errors.Is(err, ErrWindowClosed):
			if err := a.sendInstead(ctx, d, parts[i:]); err != nil {
				return i, err
			}
			return len(parts), refused
		}
		if err = classify(err); bot.Refused(err) {
			if refused == nil {
				refused = err
			}
			continue
		}
		return i, err
	}
	return len(parts), refused
}

// sendInstead sends the template configured for d.Kind, or the fallback
// template, in place of parts.
func (a *Adapter) sendInstead(ctx context.Context, d bot.Delivery, parts []part) error {
	name := string(d.Kind)
	if _, ok := a.cfg.Templates[name]; !ok {
		name = FallbackTemplate
	}
	if _, ok := a.cfg.Templates[name]; !ok {
		a.metrics.undelivered.WithLabelValues("window_closed").Add(float64(len(parts)))
		return fmt.Errorf("wechat: customer-service window closed and no %q or %q template configured: %w",
			string(d.Kind), FallbackTemplate, bot.ErrWindowClosed)
	}
	var texts []string
	for _, p := range parts {
		if p.kind != partImage {
			texts = append(texts, p.flat())
		}
	}
	if err := a.SendTemplate(ctx, d.UserID, name, map[string]string{"text": strings.Join(texts, "\n")}); err != nil {
		return classify(err)
	}
	return nil
}

// WeChat errcodes that say something about the candidate or the message
// rather than about WeChat's state.
const (
	codeAPIDailyLimit    = 45009 // the account's daily quota of this API is used up
	codeAPIMinuteLimit   = 45011 // calls too frequent
	codeInvalidMsgType   = 40008
	codeInvalidTemplate  = 40037
	codeEmptyBody        = 44002
	codeContentTooLong   = 45002
	codeBadFormat        = 47001
	codeUserRefusesMsg   = 43101 // the candidate refuses template/subscription messages
	codeTemplateIndustry = 40036 // invalid template size / industry settings
)

// classify wraps a failed send in notify's terms: bot.ErrUnreachable for a
// candidate WeChat no longer delivers to (unsubscribed, blocked, unknown
// OpenID), bot.ErrPermanent for a message WeChat will never take as it is
// (malformed, an unknown template, an API the account may not use),
// *bot.RateLimitedError for the account's API quotas; anything else (the
// network, "system busy", a token refused twice) is transient.
func classify(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Code {
	case codeInvalidOpenID, codeUnsubscribed, codeBlocked:
		return fmt.Errorf("%w: %w", bot.ErrUnreachable, err)
	case codeInvalidMsgType, codeInvalidTemplate, codeEmptyBody, codeContentTooLong, codeBadFormat,
		codeUnauthorized, codeUserRefusesMsg, codeTemplateIndustry:
		return fmt.Errorf("%w: %w", bot.ErrPermanent, err)
	case codeAPIMinuteLimit:
		return &bot.RateLimitedError{RetryAfter: time.Minute, Err: err}
	case codeAPIDailyLimit:
		return &bot.RateLimitedError{RetryAfter: time.Hour, Err: err}
	}
	return err
}
