// Package telegramtest is a local Bot API server for tests of code that
// sends on Telegram through bot/telegram (broadcasts, a running regbot
// serve): it speaks the real wire format (each method a POST to
// /bot<token>/<method>, multipart or form fields, answers
// {"ok":true,"result":…} or {"ok":false,"error_code":…,"parameters":{…}}),
// records every send with its time, and can answer a send with an error
// (429 with retry_after, 403 blocked).
package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token is the bot token the server answers to.
const Token = "123456:TEST-broadcast_token"

// Send is one sendMessage or sendPhoto the server took.
type Send struct {
	Method string
	ChatID string
	// Text is the text, or the photo's caption.
	Text string
	// Photo is the uploaded photo's size in bytes (sendPhoto).
	Photo int
	At    time.Time
	// Refused is set when the server answered with an error: the message
	// was not delivered.
	Refused int
}

// Error is an error answer: Code 429 with RetryAfter seconds, 403
// (blocked), 400 (bad request).
type Error struct {
	Code        int
	Description string
	RetryAfter  int
}

// Server is the fake Bot API. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu    sync.Mutex
	sends []Send
	fail  func(s Send) *Error
	// hold, when set, keeps every send waiting (not delivered) until
	// Release or Drop, or until the client goes away.
	hold    chan struct{}
	dropped bool
	msgID   int
}

// New starts a server, closed when t ends.
func New(t testing.TB) *Server {
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL (telegram.Config.ServerURL).
func (s *Server) URL() string { return s.srv.URL }

// FailWith makes the server answer a send with the error fn returns (nil:
// deliver it).
func (s *Server) FailWith(fn func(s Send) *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fn
}

// Hold keeps every further send waiting, undelivered, until Release or
// Drop: a platform that stopped answering.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// Release lets held sends through.
func (s *Server) Release() { s.end(false) }

// Drop ends held sends undelivered (a 502, as from a proxy that lost
// them): the sends of a client that died while they were held never
// reached the platform.
func (s *Server) Drop() { s.end(true) }

func (s *Server) end(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		s.dropped = drop
		close(s.hold)
		s.hold = nil
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+Token+"/")
	if !ok || r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	method := rest
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		r.ParseForm()
	}
	switch method {
	case "getMe":
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
			"id": 1, "is_bot": true, "first_name": "regbot", "username": "regbot_test_bot"}})
		return
	case "sendMessage", "sendPhoto":
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": true})
		return
	}
	send := Send{Method: method, ChatID: r.FormValue("chat_id"), Text: r.FormValue("text")}
	if method == "sendPhoto" {
		send.Text = r.FormValue("caption")
		if f, h, err := r.FormFile("photo"); err == nil {
			send.Photo = int(h.Size)
			f.Close()
		}
	}
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return // the client went away: nothing was delivered
		}
		s.mu.Lock()
		dropped := s.dropped
		s.mu.Unlock()
		if dropped {
			writeJSON(w, http.StatusBadGateway, map[string]any{"ok": false, "error_code": 502, "description": "Bad Gateway"})
			return
		}
	}
	s.mu.Lock()
	send.At = time.Now()
	var e *Error
	if s.fail != nil {
		e = s.fail(send)
	}
	if e != nil {
		send.Refused = e.Code
	}
	s.sends = append(s.sends, send)
	s.msgID++
	id := s.msgID
	s.mu.Unlock()
	if e != nil {
		body := map[string]any{"ok": false, "error_code": e.Code, "description": e.Description}
		if e.RetryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": e.RetryAfter}
		}
		writeJSON(w, e.Code, body)
		return
	}
	chat, _ := strconv.ParseInt(send.ChatID, 10, 64)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
		"message_id": id, "date": send.At.Unix(), "chat": map[string]any{"id": chat, "type": "private"}, "text": send.Text}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Sends returns every send so far, refused ones included, in the order
// they came.
func (s *Server) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sends)
}

// Delivered counts the delivered sends per chat.
func (s *Server) Delivered() map[string]int {
	out := map[string]int{}
	for _, x := range s.Sends() {
		if x.Refused == 0 {
			out[x.ChatID]++
		}
	}
	return out
}

// MaxPerWindow is the largest number of sends (refused ones included: the
// platform counts every request) within any window of length w, overall
// and in any one chat.
func MaxPerWindow(sends []Send, w time.Duration) (overall, perChat int) {
	overall = maxIn(sends, w)
	byChat := map[string][]Send{}
	for _, x := range sends {
		byChat[x.ChatID] = append(byChat[x.ChatID], x)
	}
	for _, list := range byChat {
		perChat = max(perChat, maxIn(list, w))
	}
	return overall, perChat
}

// maxIn is the most sends within a half-open window [t, t+w).
func maxIn(sends []Send, w time.Duration) int {
	at := make([]time.Time, len(sends))
	for i, x := range sends {
		at[i] = x.At
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// String describes the sends for a failure message.
func (s Send) String() string {
	return fmt.Sprintf("%s %s %q at %s refused=%d", s.Method, s.ChatID, s.Text, s.At.Format("15:04:05.000"), s.Refused)
}
