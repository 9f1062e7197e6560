package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/officialaccount/material"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// WeChat errcodes the adapter acts on.
const (
	codeInvalidCredential = 40001 // access token invalid (another fetch replaced it)
	codeInvalidOpenID     = 40003
	codeInvalidToken      = 40014
	codeTokenExpired      = 42001
	codeUnsubscribed      = 43004
	codeBlocked           = 43019
	codeWindowClosed      = 45015 // customer-service message outside the 48-hour window
	codeOutOfQuota        = 45047 // too many customer-service messages for one user message
	codeUnauthorized      = 48001 // the account may not use this API
)

// ErrWindowClosed marks a customer-service message WeChat refused because
// the candidate wrote last more than 48 hours ago (errcode 45015).
var ErrWindowClosed = errors.New("wechat: 48-hour customer-service window closed")

// APIError is a failed WeChat API call. Its message never holds the access
// token, the app secret or a URL (they travel in query strings): the SDK's
// error is reduced to the errcode and a redacted text as soon as it is seen.
type APIError struct {
	// API names the call: token, custom_send, template_send, media_upload,
	// media_get, image_get, menu_create.
	API string
	// Code is WeChat's errcode, or 0 when the call failed before WeChat
	// answered (network error, HTTP status).
	Code int64
	// Msg is the redacted error text.
	Msg string
	// timeout is set for network timeouts.
	timeout bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode=%d: %s", e.API, e.Code, e.Msg)
}

// Is makes errors.Is(err, ErrWindowClosed) hold for errcode 45015 (the
// 48-hour window closed) and 45047 (the customer-service messages allowed
// per candidate message used up): either way only a template reaches the
// candidate until they write again.
func (e *APIError) Is(target error) bool {
	return target == ErrWindowClosed && (e.Code == codeWindowClosed || e.Code == codeOutOfQuota)
}

func (e *APIError) tokenRejected() bool {
	switch e.Code {
	case codeInvalidCredential, codeInvalidToken, codeTokenExpired:
		return true
	}
	return false
}

var (
	errcodePattern = regexp.MustCompile(`errcode\s*[=:]\s*(-?\d+)`)
	urlPattern     = regexp.MustCompile(`(?i)\b(https?)://([^/\s"'?]+)[^\s"']*`)
	secretPattern  = regexp.MustCompile(`(?i)(access_token|secret|media_id)=[^&\s"']*`)
)

// redact removes URLs (they carry the token, the secret or name a media
// file) and credential parameters from an error text.
func redact(s string) string {
	s = urlPattern.ReplaceAllString(s, "$1://$2/…")
	return secretPattern.ReplaceAllString(s, "$1=…")
}

// apiErrorOf turns an SDK error into an *APIError.
func apiErrorOf(api string, err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	e := &APIError{API: api, Msg: redact(err.Error())}
	var ce *util.CommonError
	if errors.As(err, &ce) {
		e.Code = ce.ErrCode
	} else if m := errcodePattern.FindStringSubmatch(err.Error()); m != nil {
		e.Code, _ = strconv.ParseInt(m[1], 10, 64)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		e.timeout = true
	}
	return e
}

// api makes the WeChat API calls: every call gets the access token from the
// shared source, a call refused with an invalid or expired token (40001,
// 42001, 40014) drops that token and is tried once more with a fresh one,
// and every failure is counted.
type api struct {
	tokens   *tokenSource
	customer *message.Manager
	template *message.Template
	material *material.Material
	menu     *menu.Menu
	metrics  *metrics
}

// call runs fn, which makes the SDK call named name, with the token rule.
func (a *api) call(ctx context.Context, name string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		tok, err := a.tokens.GetAccessTokenContext(ctx)
		if err != nil {
			e := apiErrorOf("token", err)
			a.metrics.apiError(e.API, e.Code)
			return e
		}
		err = fn()
		if err == nil {
			return nil
		}
		e := apiErrorOf(name, err)
		a.metrics.apiError(e.API, e.Code)
		if attempt == 0 && e.tokenRejected() {
			if err := a.tokens.invalidate(ctx, tok); err != nil {
				return fmt.Errorf("drop rejected token: %w", err)
			}
			continue
		}
		return e
	}
}

func (a *api) sendCustomer(ctx context.Context, msg *message.CustomerMessage) error {
	return a.call(ctx, "custom_send", func() error { return a.customer.Send(msg) })
}

func (a *api) sendTemplate(ctx context.Context, msg *message.TemplateMessage) error {
	return a.call(ctx, "template_send", func() error {
		_, err := a.template.Send(msg)
		return err
	})
}

// uploadImage uploads data as temporary media and returns its media_id.
func (a *api) uploadImage(ctx context.Context, name string, data []byte) (string, error) {
	var id string
	err := a.call(ctx, "media_upload", func() error {
		m, err := a.material.MediaUploadFromReader(material.MediaTypeImage, name, bytes.NewReader(data))
		id = m.MediaID
		return err
	})
	return id, err
}

// downloadMedia fetches temporary media (an image the candidate sent).
func (a *api) downloadMedia(ctx context.Context, mediaID string) ([]byte, error) {
	var data []byte
	err := a.call(ctx, "media_get", func() error {
		u, err := a.material.GetMediaURL(mediaID)
		if err != nil {
			return err
		}
		body, err := util.HTTPGetContext(ctx, u)
		if err != nil {
			return err
		}
		data, err = util.HandleFileResponse(body, "media_get")
		return err
	})
	if err == nil && len(data) == 0 {
		return nil, &APIError{API: "media_get", Msg: "empty media"}
	}
	return data, err
}

// downloadURL fetches an image by its PicUrl (no token involved).
func (a *api) downloadURL(ctx context.Context, u string) ([]byte, error) {
	data, err := util.HTTPGetContext(ctx, u)
	if err != nil {
		e := apiErrorOf("image_get", err)
		a.metrics.apiError(e.API, e.Code)
		return nil, e
	}
	return data, nil
}

func (a *api) setMenu(ctx context.Context, buttons []*menu.Button) error {
	return a.call(ctx, "menu_create", func() error { return a.menu.SetMenu(buttons) })
}

// UseHTTPClient makes every WeChat API call of the process go through c.
// The SDK keeps one global client (util.DefaultHTTPClient, by default
// without any timeout), so call it once at start-up, before New, with a
// client whose Timeout is Config.APITimeout; `regbot serve` and
// `regbot wechat menu` do.
func UseHTTPClient(c *http.Client) { util.DefaultHTTPClient = c }

// wechatAPI is the origin of every WeChat API call the SDK makes.
const wechatAPI = "https://api.weixin.qq.com"

// UseAPIBase sends every WeChat API call to base instead of
// https://api.weixin.qq.com (wechat.api_base). Like UseHTTPClient it changes
// the SDK's process-wide setting: call it once at start-up.
func UseAPIBase(base string) {
	if base == "" {
		return
	}
	base = strings.TrimRight(base, "/")
	util.SetURIModifier(func(uri string) string {
		if rest, ok := strings.CutPrefix(uri, wechatAPI); ok {
			return base + rest
		}
		return uri
	})
}
