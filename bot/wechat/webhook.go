package wechat

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// maxBodyBytes bounds a webhook request body; WeChat's messages are a few
// kilobytes.
const maxBodyBytes = 1 << 20

// laterTimeout bounds handing the messages the webhook could not answer
// with to the outbox.
const laterTimeout = 10 * time.Second

// DefaultRetryHold is how long after a message arrived the webhook answers
// it when its turn failed for now (the database out of reach): past
// WeChat's five seconds, so WeChat, having had no answer, delivers the
// message again (it does so three times); the failed turn released the
// message id, so the retry runs it. An answer within the five seconds,
// even an error status, is not retried: WeChat shows its own "this official
// account cannot serve you now" notice and the message is lost.
const DefaultRetryHold = 6 * time.Second

// Routes mounts the webhook on mux: GET answers WeChat's URL verification,
// POST receives messages and events.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+a.cfg.Path, a.serveVerify)
	mux.HandleFunc("POST "+a.cfg.Path, a.serveMessage)
}

// ServeHTTP is the webhook as one handler, for mounting at Config.Path
// without Routes.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		a.serveVerify(w, r)
	case http.MethodPost:
		a.serveMessage(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

// serveVerify answers the URL verification WeChat makes when the server
// address is configured: a signed GET whose echostr is echoed back.
func (a *Adapter) serveVerify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if status, result := a.authenticate(q); status != 0 {
		a.refuse(w, status, result)
		return
	}
	echo := q.Get("echostr")
	if echo == "" {
		a.refuse(w, http.StatusBadRequest, "malformed")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, echo)
	a.metrics.requests.WithLabelValues("verified").Inc()
}

// authenticate checks the request signature (SHA-1 of the sorted token,
// timestamp and nonce) in constant time, then that the timestamp is within
// MaxClockSkew of now, so a captured request cannot be replayed later.
func (a *Adapter) authenticate(q url.Values) (status int, result string) {
	ts := q.Get("timestamp")
	if !signatureOK(q.Get("signature"), a.cfg.Token, ts, q.Get("nonce")) {
		return http.StatusForbidden, "bad_signature"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return http.StatusForbidden, "stale"
	}
	skew := a.now().Sub(time.Unix(sec, 0))
	if skew < 0 {
		skew = -skew
	}
	if skew > a.cfg.MaxClockSkew {
		return http.StatusForbidden, "stale"
	}
	return 0, ""
}

// signatureOK reports, in constant time, whether got is WeChat's signature
// of parts: the lower-case hex SHA-1 of the parts sorted and concatenated,
// as the SDK's util.Signature computes it, without its allocations (a
// sorted copy, a hash object, the string conversions, fmt: about 15 a
// request).
func signatureOK(got string, parts ...string) bool {
	var sorted [4]string
	if len(parts) > len(sorted) {
		return false
	}
	p := sorted[:len(parts)]
	copy(p, parts)
	// Insertion sort: at most four parts.
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j] < p[j-1]; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
	// Token, timestamp and nonce fit the stack; a safe-mode message goes
	// to the heap.
	buf := make([]byte, 0, 256)
	for _, s := range p {
		buf = append(buf, s...)
	}
	sum := sha1.Sum(buf)
	var want [2 * sha1.Size]byte
	hex.Encode(want[:], sum[:])
	if len(got) != len(want) {
		return false
	}
	var diff byte
	for i := range want {
		diff |= want[i] ^ got[i]
	}
	return diff == 0
}

// refuse answers a request the webhook does not accept. Nothing of it has
// reached the Handler.
func (a *Adapter) refuse(w http.ResponseWriter, status int, result string) {
	a.metrics.requests.WithLabelValues(result).Inc()
	a.log.Info("wechat webhook request refused", "channel", Channel, "status", status, "reason", result)
	http.Error(w, http.StatusText(status), status)
}

// serveMessage receives one message or event. It checks size, signature and
// freshness (and in safe mode the message signature) itself, then lets the
// SDK decrypt and parse the message and build the passive reply.
func (a *Adapter) serveMessage(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	if !a.started.Load() || a.stopping.Load() {
		a.refuse(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	if r.ContentLength > maxBodyBytes {
		a.refuse(w, http.StatusRequestEntityTooLarge, "too_large")
		return
	}
	q := r.URL.Query()
	if status, result := a.authenticate(q); status != 0 {
		a.refuse(w, status, result)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			a.refuse(w, http.StatusRequestEntityTooLarge, "too_large")
		} else {
			a.refuse(w, http.StatusBadRequest, "malformed")
		}
		return
	}
	safe := q.Get("encrypt_type") == "aes"
	if safe {
		if a.cfg.EncodingAESKey == "" {
			a.log.Error("wechat sent an encrypted message but wechat.encoding_aes_key is not configured", "channel", Channel)
			a.refuse(w, http.StatusInternalServerError, "misconfigured")
			return
		}
		var env message.EncryptedXMLMsg
		if err := xml.Unmarshal(body, &env); err != nil || env.EncryptedMsg == "" {
			a.refuse(w, http.StatusBadRequest, "malformed")
			return
		}
		if !signatureOK(q.Get("msg_signature"), a.cfg.Token, q.Get("timestamp"), q.Get("nonce"), env.EncryptedMsg) {
			a.refuse(w, http.StatusForbidden, "bad_signature")
			return
		}
	}

	if !safe {
		a.servePlain(w, r, body, arrived)
		return
	}

	// Safe mode: the SDK decrypts, parses and encrypts the reply. It reads
	// the body again; it parses XML only (official accounts never post
	// JSON).
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Del("Content-Type")
	rec := &replyRecorder{header: http.Header{}}
	ex := &exchange{a: a, ctx: r.Context(), w: w, r: r}
	srv := a.oa.GetServer(req, rec)
	srv.SetMessageHandler(ex.handle)
	err = srv.Serve()
	if ex.late {
		return // answered at the reply budget
	}
	if err != nil {
		if !ex.called {
			// Decryption, AppID check or XML parsing failed.
			a.log.Info("wechat message unreadable", "channel", Channel, "err", redact(err.Error()))
			a.refuse(w, http.StatusBadRequest, "malformed")
			return
		}
		a.log.Error("wechat passive reply not built", "channel", Channel, "user", userHash(ex.user), "err", redact(err.Error()))
		ex.rest, ex.replied = ex.all, false
		rec.reset()
	}
	if ex.malformed {
		a.refuse(w, http.StatusBadRequest, "malformed")
		return
	}
	if ex.retry {
		a.letRetry(w, r, arrived)
		return
	}
	if ex.replied {
		if err := srv.Send(); err != nil {
			a.log.Error("wechat passive reply not sent", "channel", Channel, "user", userHash(ex.user), "err", redact(err.Error()))
			ex.rest, ex.replied = ex.all, false
			rec.reset()
		}
	}
	a.answer(w, r, ex, rec.header, rec.body.Bytes())
}

// servePlain is serveMessage in plaintext mode, without the SDK's server:
// the signature is checked already, so the message is parsed once, from
// the body read, and the passive reply is built directly (the SDK's
// server would clone the request, check the signature again and build the
// reply by reflection).
func (a *Adapter) servePlain(w http.ResponseWriter, r *http.Request, body []byte, arrived time.Time) {
	var msg message.MixMessage
	if err := parseMessage(body, &msg); err != nil {
		a.log.Info("wechat message unreadable", "channel", Channel, "err", redact(err.Error()))
		a.refuse(w, http.StatusBadRequest, "malformed")
		return
	}
	ex := &exchange{a: a, ctx: r.Context(), w: w, r: r}
	reply := ex.handle(&msg)
	if ex.late {
		return // answered at the reply budget
	}
	if ex.malformed {
		a.refuse(w, http.StatusBadRequest, "malformed")
		return
	}
	if ex.retry {
		a.letRetry(w, r, arrived)
		return
	}
	var out []byte
	if text, ok := replyText(reply); ok {
		buf := replyBuffers.Get().(*[]byte)
		defer func() {
			if cap(*buf) <= 16<<10 {
				replyBuffers.Put(buf)
			}
		}()
		out = appendPassiveText((*buf)[:0], string(msg.FromUserName), string(msg.ToUserName), a.now().Unix(), string(text.Content))
		*buf = out
	}
	var header http.Header
	if out != nil {
		header = xmlHeader
	} else if ex.replied {
		ex.rest, ex.replied = ex.all, false
	}
	a.answer(w, r, ex, header, out)
}

// replyBuffers hold passive replies while they are written.
var replyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendPassiveText appends the passive reply of a text message to b: the
// bytes xml.Marshal writes for the SDK's message.Text, without its
// reflection and buffers.
func appendPassiveText(b []byte, to, from string, created int64, content string) []byte {
	b = append(b, "<xml><ToUserName>"...)
	b = appendCDATA(b, to)
	b = append(b, "</ToUserName><FromUserName>"...)
	b = appendCDATA(b, from)
	b = append(b, "</FromUserName><CreateTime>"...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, "</CreateTime><MsgType>text</MsgType><Content>"...)
	b = appendCDATA(b, content)
	return append(b, "</Content></xml>"...)
}

// appendCDATA appends s as encoding/xml writes a ",cdata" field: nothing
// for "", else one CDATA section, a "]]>" inside it split across two.
func appendCDATA(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, "<![CDATA["...)
	for {
		before, after, ok := strings.Cut(s, "]]>")
		if !ok {
			break
		}
		b = append(b, before...)
		b = append(b, "]]]]><![CDATA[>"...)
		s = after
	}
	b = append(b, s...)
	return append(b, "]]>"...)
}

// xmlContentType is the passive reply's Content-Type, as the SDK sends it;
// xmlHeader is the passive reply's header (answer copies it, never changes
// it).
var (
	xmlContentType = []string{"application/xml; charset=utf-8"}
	xmlHeader      = http.Header{"Content-Type": xmlContentType}
	textHeader     = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
)

// replyText is the text message of a passive reply.
func replyText(reply *message.Reply) (*message.Text, bool) {
	if reply == nil {
		return nil, false
	}
	text, ok := reply.MsgData.(*message.Text)
	return text, ok
}

// answer writes the webhook's answer (body, or "success" when it is empty)
// and hands what the answer could not carry to the outbox.
func (a *Adapter) answer(w http.ResponseWriter, r *http.Request, ex *exchange, header http.Header, body []byte) {
	if len(body) == 0 {
		// Safe mode writes nothing for a nil reply; WeChat wants "success".
		header = textHeader
		body = []byte(success)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	result := ex.result
	if ex.replied {
		result = "reply"
		a.metrics.sent.WithLabelValues("passive").Inc()
	}
	a.metrics.requests.WithLabelValues(result).Inc()
	if len(ex.rest) > 0 {
		// The passive reply leaves first; the rest follows it.
		_ = http.NewResponseController(w).Flush()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), laterTimeout)
		a.sendLater(ctx, ex.user, ex.rest)
		cancel()
	}
}

// letRetry answers a message whose turn failed for now only once WeChat
// has stopped waiting (DefaultRetryHold after it arrived), so that WeChat
// delivers it again; nothing was recorded and the message id is free.
func (a *Adapter) letRetry(w http.ResponseWriter, r *http.Request, arrived time.Time) {
	t := time.NewTimer(time.Until(arrived.Add(a.retryHold)))
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
	}
	a.metrics.requests.WithLabelValues("retry").Inc()
	http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
}

// exchange is the state of one webhook request between the SDK's message
// callback and the response.
type exchange struct {
	a   *Adapter
	ctx context.Context
	// w and r are the request's; answerLate answers on w when the turn
	// outlasts the reply budget.
	w http.ResponseWriter
	r *http.Request
	// owner says who answers (undecided, byTurn, byTimer); lateMu is held
	// while the timer answers; late is set once it did.
	owner  atomic.Int32
	lateMu sync.Mutex
	late   bool
	// called is set once the SDK has parsed a message.
	called    bool
	malformed bool
	user      string
	result    string
	// replied is set when the first message goes out as the passive reply;
	// rest is what follows by customer-service message, all is everything.
	replied   bool
	rest, all []dialogs.Outbound
	// retry is set when the turn failed for now: WeChat is to deliver the
	// message again (letRetry).
	retry bool
}

// handle is the SDK's message callback: it maps the message, drops retried
// deliveries, runs the turn within the reply budget and returns the
// passive reply, or nil for "success".
func (ex *exchange) handle(msg *message.MixMessage) *message.Reply {
	a := ex.a
	ex.called = true
	ex.result = "success"
	if msg.MsgType == "" || (store.Identity{Channel: Channel, UserID: string(msg.FromUserName)}).Check() != nil {
		ex.malformed = true
		return nil
	}
	if msg.MsgType == message.MsgTypeEvent && msg.Event == message.EventUnsubscribe {
		ex.result = "unsubscribed"
		a.markUnreachable(ex.ctx, string(msg.FromUserName))
		return nil
	}
	in, media, ok := a.inbound(msg)
	if !ok {
		ex.result = "ignored"
		return nil
	}
	ex.user = in.UserID
	out, inBudget := a.runTurn(ex, in, media)
	if !inBudget {
		return nil
	}
	if out.retry {
		ex.retry = true
		return nil
	}
	if out.duplicate {
		// A retry: WeChat gets the recorded turn's passive reply again (it
		// never got the first one), or "success" when the turn is still
		// running or its reply went by customer-service message.
		ex.result = "duplicate"
		if len(out.msgs) == 0 {
			return nil
		}
		reply, _, ok := splitPassive(out.msgs, a.cfg.joinReplies())
		if !ok {
			return nil
		}
		ex.replied = true
		return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(reply)}
	}
	reply, rest, ok := splitPassive(out.msgs, a.cfg.joinReplies())
	ex.all, ex.rest = out.msgs, rest
	if !ok {
		return nil
	}
	ex.replied = true
	return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(reply)}
}

// markUnreachable records that the candidate unfollowed the account: no
// customer-service or template message reaches them any more. It is not a
// turn (nothing changes in the conversation, nothing is answered); the
// candidate's next message or follow clears the mark. A failure is logged
// and the event answered "success" all the same: WeChat does not send it
// again, and the outbox's first refused send (43004) marks them then.
func (a *Adapter) markUnreachable(ctx context.Context, user string) {
	if a.unreachable == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), laterTimeout)
	defer cancel()
	if err := a.unreachable(ctx, store.Identity{Channel: Channel, UserID: user}); err != nil {
		a.log.Error("wechat marking an unfollowed candidate unreachable failed", "channel", Channel, "user", userHash(user), "err", err)
	}
}

// mediaRef is an image to download before the turn.
type mediaRef struct {
	mediaID, picURL string
}

// inbound maps a WeChat message to the engine's Inbound. ok is false for
// what the bot does not handle (VIEW, template receipts and
// every unknown type), which is answered "success" and goes nowhere.
func (a *Adapter) inbound(msg *message.MixMessage) (in dialogs.Inbound, media *mediaRef, ok bool) {
	in = dialogs.Inbound{Channel: Channel, UserID: string(msg.FromUserName)}
	if msg.MsgID != 0 {
		in.MsgID = strconv.FormatInt(msg.MsgID, 10)
	} else {
		in.MsgID = eventID(msg)
	}
	switch msg.MsgType {
	case message.MsgTypeText:
		if strings.TrimSpace(msg.Content) == "" {
			return in, nil, false
		}
		// A click on a msgmenu choice arrives as text: its label.
		in.Text = msg.Content
	case message.MsgTypeImage:
		if msg.MediaID == "" && msg.PicURL == "" {
			return in, nil, false
		}
		media = &mediaRef{mediaID: msg.MediaID, picURL: msg.PicURL}
	case message.MsgTypeVoice:
		// With speech recognition on, WeChat sends what was said.
		if r := strings.TrimSpace(msg.Recognition); r != "" {
			in.Text = r
		} else {
			in.Other = string(msg.MsgType)
		}
	case message.MsgTypeVideo, message.MsgTypeShortVideo, message.MsgTypeLocation, message.MsgTypeLink, "file", message.MsgTypeMiniprogrampage:
		in.Other = string(msg.MsgType)
	case message.MsgTypeEvent:
		switch msg.Event {
		case message.EventSubscribe:
			in.Event = "subscribe"
		case message.EventClick:
			cmd, known := a.cfg.MenuCommands[msg.EventKey]
			if !known {
				a.log.Warn("wechat menu click with an unconfigured key", "channel", Channel, "key", msg.EventKey)
				return in, nil, false
			}
			in.Text = cmd
		default:
			return in, nil, false
		}
	default:
		return in, nil, false
	}
	return in, media, true
}

// eventID identifies an event (events carry no MsgId) for de-duplication:
// WeChat's retries repeat all four fields.
func eventID(msg *message.MixMessage) string {
	kind := string(msg.Event)
	if msg.MsgType != message.MsgTypeEvent {
		kind = string(msg.MsgType)
	}
	return "ev:" + string(msg.FromUserName) + ":" + strconv.FormatInt(msg.CreateTime, 10) + ":" + kind + ":" + msg.EventKey
}

// loggedID is a message id fit for logs: event ids hold the OpenID, so
// they are hashed.
func loggedID(msgID string) string {
	if strings.HasPrefix(msgID, "ev:") {
		return "ev:" + userHash(msgID)
	}
	return msgID
}

// outcome is what a turn produced.
type outcome struct {
	msgs      []dialogs.Outbound
	duplicate bool
	// retry: the turn failed for now and released the message id; WeChat
	// is to deliver it again.
	retry bool
}

// The owners of a webhook's answer (exchange.owner): the request, when the
// turn ends within the reply budget, or the budget's timer.
const (
	undecided = iota
	byTurn
	byTimer
)

// runTurn runs the turn on the request's goroutine, with a timer at the
// reply budget. When the turn ends first, the webhook answers with it. When
// the timer fires first, it answers "success" at once (ex.late) and the
// turn, once done, sends all its messages by customer-service message.
// Exactly one side gets to answer; no goroutine is started unless the
// budget runs out.
func (a *Adapter) runTurn(ex *exchange, in dialogs.Inbound, media *mediaRef) (out outcome, inBudget bool) {
	start := time.Now()
	a.turns.Add(1)
	defer a.turns.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ex.ctx), a.cfg.TurnTimeout)
	defer cancel()
	timer := time.AfterFunc(a.cfg.ReplyBudget, ex.answerLate)
	out = a.turn(bot.WithReplyBy(ctx, start.Add(a.cfg.ReplyBudget)), in, media)
	if ex.owner.CompareAndSwap(undecided, byTurn) {
		timer.Stop()
		a.metrics.turnSeconds.WithLabelValues("passive").Observe(time.Since(start).Seconds())
		return out, true
	}
	// The timer answered (or is answering): wait until it is done with the
	// response, then send what the turn said.
	ex.lateMu.Lock()
	ex.lateMu.Unlock() //nolint:staticcheck // an empty critical section: waits for answerLate
	ex.late = true
	a.metrics.turnSeconds.WithLabelValues("customer").Observe(time.Since(start).Seconds())
	switch {
	case out.retry:
		// WeChat was answered at the budget and will not deliver the
		// message again: the candidate hears that it was not taken.
		a.sendLater(ctx, in.UserID, []dialogs.Outbound{{Text: a.texts["wechat_busy"]}})
	case !out.duplicate:
		a.sendLater(ctx, in.UserID, out.msgs)
	}
	return outcome{}, false
}

// answerLate is the reply budget's timer: unless the turn ended first, it
// answers "success" now, so WeChat does not retry. The answer is complete
// (its length is given) and flushed while the turn goes on; the connection
// closes after the turn, so that no other message waits behind it.
func (ex *exchange) answerLate() {
	ex.lateMu.Lock()
	defer ex.lateMu.Unlock()
	if !ex.owner.CompareAndSwap(undecided, byTimer) {
		return
	}
	h := ex.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(success)))
	h.Set("Connection", "close")
	ex.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(ex.w, success)
	_ = http.NewResponseController(ex.w).Flush()
	ex.a.metrics.requests.WithLabelValues("success").Inc()
}

// success is WeChat's "no reply" answer.
const success = "success"

// turn downloads the image, if any, and runs the Handler.
func (a *Adapter) turn(ctx context.Context, in dialogs.Inbound, media *mediaRef) outcome {
	if media != nil {
		data, err := a.fetchImage(ctx, media)
		if err != nil {
			a.log.Warn("wechat image not downloaded", "channel", Channel, "user", userHash(in.UserID), "msg_id", loggedID(in.MsgID), "err", err)
			return outcome{msgs: []dialogs.Outbound{{Text: a.texts["wechat_image_failed"]}}}
		}
		in.Image = &dialogs.Image{Data: data, Name: "wechat-" + in.MsgID + ".jpg"}
	}
	res, err := a.handle(ctx, in)
	switch {
	case errors.Is(err, bot.ErrDuplicate):
		return outcome{msgs: res.Messages, duplicate: true}
	case errors.Is(err, bot.ErrBadInput):
		// Refused as it is (a message id out of bounds): it would be again.
		a.log.Warn("wechat message refused", "channel", Channel, "user", userHash(in.UserID), "err", err)
		return outcome{}
	case errors.Is(err, errHandlerPanic):
		// A bug: it would fail again on every delivery.
		a.log.Error("wechat turn failed", "channel", Channel, "user", userHash(in.UserID), "msg_id", loggedID(in.MsgID), "err", err)
		return outcome{msgs: []dialogs.Outbound{{Text: a.texts["wechat_busy"]}}}
	case err != nil && len(res.Messages) == 0:
		// For now (the Router records a message that fails for good, with
		// its apology, and answers that): WeChat delivers it again.
		a.log.Warn("wechat turn failed; WeChat delivers the message again", "channel", Channel, "user", userHash(in.UserID), "msg_id", loggedID(in.MsgID), "err", err)
		return outcome{retry: true}
	case err != nil:
		a.log.Error("wechat turn finished with an error", "channel", Channel, "user", userHash(in.UserID), "msg_id", loggedID(in.MsgID), "err", err)
	}
	return outcome{msgs: res.Messages}
}

// errHandlerPanic marks a Handler that panicked.
var errHandlerPanic = errors.New("handler panic")

// handle runs the Handler, turning a panic into an error.
func (a *Adapter) handle(ctx context.Context, in dialogs.Inbound) (res dialogs.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v\n%s", errHandlerPanic, p, debug.Stack())
		}
	}()
	return a.h.Handle(ctx, in)
}

// fetchImage downloads an image the candidate sent, by its MediaId (the
// original, through the API) and else by its PicUrl. Media expire after
// three days, so this happens at once.
func (a *Adapter) fetchImage(ctx context.Context, m *mediaRef) ([]byte, error) {
	var errs []error
	if m.mediaID != "" {
		data, err := a.api.downloadMedia(ctx, m.mediaID)
		if err == nil {
			return data, nil
		}
		errs = append(errs, err)
	}
	if m.picURL != "" && ctx.Err() == nil {
		data, err := a.api.downloadURL(ctx, m.picURL)
		if err == nil {
			return data, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// replyRecorder holds what the SDK writes, so the webhook can still answer
// something else (and never panics on a client gone away).
type replyRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *replyRecorder) Header() http.Header { return r.header }

func (r *replyRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func (r *replyRecorder) WriteHeader(status int) { r.status = status }

func (r *replyRecorder) reset() {
	r.header = http.Header{}
	r.status = 0
	r.body.Reset()
}
