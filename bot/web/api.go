package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// tooLong and tooLarge say what the chat's limits are.
func (c *Chat) tooLong() string {
	return c.texts.say("web_too_long", "max", strconv.Itoa(c.cfg.MaxTextRunes))
}

func (c *Chat) tooLarge() string {
	return c.texts.say("web_too_large", "max", formatBytes(c.cfg.MaxUploadBytes))
}

func formatBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", max(1, n>>10))
}

// maxMsgID bounds the client's message id.
const maxMsgID = 64

// multipartSlack is what a multipart body may hold besides the image.
const multipartSlack = 64 << 10

// messageRequest is the body of POST /api/message: one of Text, Choice or
// Start (the page opened on an empty conversation).
type messageRequest struct {
	MsgID  string  `json:"msg_id"`
	Text   *string `json:"text"`
	Choice string  `json:"choice"`
	Start  bool    `json:"start"`
}

// entryView is an Entry as the API shows it.
type entryView struct {
	ID        int64            `json:"id"`
	From      Sender           `json:"from"`
	Text      string           `json:"text,omitempty"`
	Choices   []dialogs.Choice `json:"choices,omitempty"`
	Link      *dialogs.Link    `json:"link,omitempty"`
	Ask       *dialogs.Ask     `json:"ask,omitempty"`
	Image     string           `json:"image,omitempty"`
	ImageName string           `json:"image_name,omitempty"`
	Upload    string           `json:"upload,omitempty"`
}

// turnResponse answers a message or an upload.
type turnResponse struct {
	// Messages are the bot's answers.
	Messages []entryView `json:"messages"`
	// Duplicate is set when the message id was handled already (a double
	// submit); the page reloads the history instead.
	Duplicate bool `json:"duplicate,omitempty"`
}

type historyResponse struct {
	Messages []entryView `json:"messages"`
}

type errorResponse struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// serveHistory answers the visitor's kept conversation; with ?after=N only
// the entries after entry N (the page polls this way for messages the bot
// sends later: notifications, staff replies).
func (c *Chat) serveHistory(w http.ResponseWriter, r *http.Request, v visitor) {
	var after int64
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
			return
		}
		after = n
	}
	entries, err := c.history.Recent(r.Context(), v.id)
	if err != nil {
		c.fail(w, v, "load history", err)
		return
	}
	out := historyResponse{Messages: make([]entryView, 0, len(entries))}
	for _, e := range entries {
		if e.ID > after {
			out.Messages = append(out.Messages, c.view(e))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Chat) serveMessage(w http.ResponseWriter, r *http.Request, v visitor) {
	limit := int64(c.cfg.MaxTextRunes)*12 + 4096
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var req messageRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, c.tooLong())
			return
		}
		writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
		return
	}
	msgID, ok := c.msgID(v, req.MsgID)
	if !ok {
		writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
		return
	}
	in := dialogs.Inbound{Channel: Channel, UserID: v.id, MsgID: msgID}
	user := Entry{From: FromUser, At: c.now()}
	switch {
	case req.Start:
		in.Event = "subscribe"
	case req.Choice != "":
		if len(req.Choice) > 200 || !utf8.ValidString(req.Choice) {
			writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
			return
		}
		in.Choice = req.Choice
		user.Text = c.choiceLabel(r.Context(), v, req.Choice)
	case req.Text != nil:
		// A text over max_text_runes (but within the body limit) goes to
		// the Router, which keeps it and answers the plan's sentence.
		text := store.CleanText(strings.TrimSpace(*req.Text))
		if text == "" {
			writeError(w, http.StatusBadRequest, c.texts.say("web_empty"))
			return
		}
		in.Text = text
		user.Text = text
	default:
		writeError(w, http.StatusBadRequest, c.texts.say("web_empty"))
		return
	}
	var keep []Entry
	if !req.Start {
		keep = []Entry{user}
	}
	c.turn(w, r, v, in, keep)
}

// choiceLabel is the label of the button with id in the visitor's latest
// bot message with buttons, shown as what the visitor "said".
func (c *Chat) choiceLabel(ctx context.Context, v visitor, id string) string {
	entries, err := c.history.Recent(ctx, v.id)
	if err == nil {
		for i := len(entries) - 1; i >= 0; i-- {
			if entries[i].From != FromBot || len(entries[i].Choices) == 0 {
				continue
			}
			for _, ch := range entries[i].Choices {
				if ch.ID == id {
					return ch.Label
				}
			}
			break
		}
	}
	if key, ok := menuLabels[id]; ok {
		return c.texts.say(key)
	}
	return id
}

// menuLabels are the texts of the page's fixed menu, by the command it
// sends.
var menuLabels = map[string]string{
	"cmd:progress": "web_menu_progress",
	"cmd:help":     "web_menu_help",
	"cmd:human":    "web_menu_human",
}

func (c *Chat) serveUpload(w http.ResponseWriter, r *http.Request, v visitor) {
	limit := c.cfg.MaxUploadBytes + multipartSlack
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, c.tooLarge())
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		writeError(w, http.StatusBadRequest, c.texts.say("web_no_file"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, c.texts.say("web_no_file"))
		return
	}
	var (
		clientID string
		name     string
		data     []byte
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.uploadError(w, err)
			return
		}
		switch part.FormName() {
		case "msg_id":
			b, err := io.ReadAll(io.LimitReader(part, maxMsgID+1))
			if err != nil {
				c.uploadError(w, err)
				return
			}
			clientID = string(b)
		case "image":
			if data != nil {
				writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
				return
			}
			name = uploadName(part.FileName())
			data, err = io.ReadAll(io.LimitReader(part, c.cfg.MaxUploadBytes+1))
			if err != nil {
				c.uploadError(w, err)
				return
			}
			if int64(len(data)) > c.cfg.MaxUploadBytes {
				writeError(w, http.StatusRequestEntityTooLarge, c.tooLarge())
				return
			}
		}
		part.Close()
	}
	if data == nil {
		writeError(w, http.StatusBadRequest, c.texts.say("web_no_file"))
		return
	}
	// A quick answer for what is plainly not an image; whether it decodes,
	// and whether it fits the material, is the engine's call.
	if !strings.HasPrefix(http.DetectContentType(data), "image/") {
		writeError(w, http.StatusUnsupportedMediaType, c.texts.say("web_not_image"))
		return
	}
	msgID, ok := c.msgID(v, clientID)
	if !ok {
		writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
		return
	}
	in := dialogs.Inbound{
		Channel: Channel, UserID: v.id, MsgID: msgID,
		// The browser sends the file untouched, like a document on Telegram.
		Image: &dialogs.Image{Data: data, Name: name, Document: true},
	}
	c.turn(w, r, v, in, []Entry{{From: FromUser, Upload: cmp.Or(name, c.texts.say("web_image")), At: c.now()}})
}

// uploadError answers a failed read of an upload body.
func (c *Chat) uploadError(w http.ResponseWriter, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		writeError(w, http.StatusRequestEntityTooLarge, c.tooLarge())
		return
	}
	writeError(w, http.StatusBadRequest, c.texts.say("web_no_file"))
}

// uploadName keeps the base name of an uploaded file, shortened.
func uploadName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	if r := []rune(name); len(r) > 80 {
		name = string(r[:80])
	}
	return name
}

// msgID turns the page's per-message id into the Inbound's MsgID. It is
// prefixed with the visitor's id so that ids chosen by one visitor never
// collide with another's. A missing id gets a random one (no
// de-duplication for that message).
func (c *Chat) msgID(v visitor, client string) (string, bool) {
	if client == "" {
		return v.id + "/" + randomHex(12), true
	}
	if len(client) > maxMsgID {
		return "", false
	}
	for _, r := range client {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", false
		}
	}
	return v.id + "/" + client, true
}

// turn runs in through the handler, keeps the visitor's entries and the
// bot's answers in the history and writes the answers.
func (c *Chat) turn(w http.ResponseWriter, r *http.Request, v visitor, in dialogs.Inbound, user []Entry) {
	ctx, cancel := context.WithTimeout(r.Context(), turnTimeout)
	defer cancel()
	res, err := c.h.Handle(ctx, in)
	switch {
	case errors.Is(err, bot.ErrDuplicate):
		writeJSON(w, http.StatusOK, turnResponse{Messages: []entryView{}, Duplicate: true})
		return
	case errors.Is(err, bot.ErrBadInput):
		writeError(w, http.StatusBadRequest, c.texts.say("web_bad_request"))
		return
	case err != nil && len(res.Messages) == 0:
		c.fail(w, v, "handle message", err)
		return
	case err != nil:
		c.log.Warn("turn done but not fully saved", "user", v.logKey(), "err", err)
	}
	entries := append([]Entry(nil), user...)
	now := c.now()
	for _, m := range res.Messages {
		entries = append(entries, Entry{From: FromBot, Text: m.Text, Choices: m.Choices, Link: m.Link, Ask: m.Ask, Image: m.Image, At: now})
	}
	kept, err := c.history.Append(ctx, v.id, entries)
	if err != nil {
		// The turn happened; only the reload view misses it.
		c.log.Error("keep web history", "user", v.logKey(), "err", err)
		kept = entries
	}
	out := turnResponse{Messages: make([]entryView, 0, len(res.Messages))}
	for _, e := range kept[len(user):] {
		out.Messages = append(out.Messages, c.view(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// serveImage serves an image the bot sent to this visitor. Its URL lives as
// long as the message stays in the visitor's history, and works only with
// the visitor's cookie.
func (c *Chat) serveImage(w http.ResponseWriter, r *http.Request, v visitor) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, c.texts.say("web_not_found"))
		return
	}
	e, err := c.history.Entry(r.Context(), v.id, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (e.Image == nil || len(e.Image.Data) == 0)) {
		writeError(w, http.StatusNotFound, c.texts.say("web_not_found"))
		return
	}
	if err != nil {
		c.fail(w, v, "load image", err)
		return
	}
	ct := http.DetectContentType(e.Image.Data)
	if !strings.HasPrefix(ct, "image/") {
		writeError(w, http.StatusNotFound, c.texts.say("web_not_found"))
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Length", strconv.Itoa(len(e.Image.Data)))
	w.WriteHeader(http.StatusOK)
	w.Write(e.Image.Data)
}

// view is how the API shows an entry.
func (c *Chat) view(e Entry) entryView {
	out := entryView{ID: e.ID, From: e.From, Text: e.Text, Choices: e.Choices, Ask: e.Ask, Upload: e.Upload}
	if e.Link != nil {
		if safeURL(e.Link.URL) {
			out.Link = e.Link
		} else {
			// Never an href the page could run (javascript:, data:…).
			out.Text = strings.TrimSpace(out.Text + "\n" + e.Link.Label + "：" + e.Link.URL)
		}
	}
	if e.Image != nil && len(e.Image.Data) > 0 {
		out.Image = c.cfg.Path + "/api/image/" + strconv.FormatInt(e.ID, 10)
		out.ImageName = e.Image.Name
	}
	return out
}

// safeURL accepts absolute http(s) URLs and same-site paths.
func safeURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		return u.Host != ""
	case u.Scheme == "" && u.Host == "":
		return strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && !strings.HasPrefix(raw, `/\`)
	}
	return false
}

// fail logs an unexpected error under a request id and answers 500 with the
// id and the generic message; the error itself never reaches the client.
func (c *Chat) fail(w http.ResponseWriter, v visitor, what string, err error) {
	reqID := randomHex(8)
	c.log.Error(what, "user", v.logKey(), "request_id", reqID, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorResponse{Error: c.texts.say("web_busy"), RequestID: reqID})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorResponse{Error: msg})
}

// writeJSON writes v as JSON. encoding/json escapes <, > and & as
// \u003c…, so no HTML survives into the body even if a client mistook it
// for HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
