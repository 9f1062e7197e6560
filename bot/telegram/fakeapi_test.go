package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI is a local Bot API server speaking the real wire format: every
// method is a POST to /bot<token>/<method> (the library sends multipart
// forms, JSON values as strings), answered {"ok":true,"result":…} or
// {"ok":false,"error_code":…,"description":…,"parameters":{…}}; files are
// served at /file/bot<token>/<path>; getUpdates long-polls a queue.
type fakeAPI struct {
	t     *testing.T
	token string
	srv   *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	files   map[string]fakeFile // by file_id
	updates []json.RawMessage
	// fail, when set, may answer a call with an error instead.
	fail    func(c apiCall) *apiError
	nextMsg int
	// changed is closed and replaced on every call and queued update.
	changed chan struct{}
}

// apiCall is one Bot API request as the fake received it.
type apiCall struct {
	Method string
	Fields map[string]string
	Files  map[string]fakeUpload
	At     time.Time
	// MessageID is the id of the message a send or edit answered with.
	MessageID int
}

type fakeUpload struct {
	Name string
	Data []byte
}

type fakeFile struct {
	path string
	data []byte
	// size is the file_size getFile reports (default len(data)).
	size int64
	// gone files are known to getFile but missing on the file server.
	gone bool
}

// apiError is an error answer.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, token: "123456:TEST-token_abc", files: map[string]fakeFile{}, changed: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+f.token+"/"); ok {
		f.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		http.NotFound(w, r)
		return
	}
	if token != f.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	if r.Method != http.MethodPost {
		f.t.Errorf("fake Bot API: %s %s, want POST", r.Method, method)
	}
	c, err := readCall(r, method)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The client hung up mid-request (an adapter stopping).
		return
	}
	if err != nil {
		f.t.Errorf("fake Bot API: %s: %v", method, err)
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
		return
	}
	if method == "getUpdates" {
		f.serveUpdates(w, r, c)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	idx := len(f.calls) - 1
	fail := f.fail
	f.signalLocked()
	f.mu.Unlock()
	if fail != nil {
		if e := fail(c); e != nil {
			body := map[string]any{"ok": false, "error_code": e.Code, "description": e.Description}
			if e.RetryAfter > 0 {
				body["parameters"] = map[string]any{"retry_after": e.RetryAfter}
			}
			writeJSON(w, e.Code, body)
			return
		}
	}
	result, apiErr := f.result(c)
	if msg, ok := result.(map[string]any); ok {
		f.mu.Lock()
		f.calls[idx].MessageID, _ = msg["message_id"].(int)
		f.signalLocked()
		f.mu.Unlock()
	}
	if apiErr != nil {
		writeJSON(w, apiErr.Code, map[string]any{"ok": false, "error_code": apiErr.Code, "description": apiErr.Description})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

// readCall parses a request body the way the Bot API accepts it: multipart
// (what go-telegram/bot sends), urlencoded or JSON.
func readCall(r *http.Request, method string) (apiCall, error) {
	c := apiCall{Method: method, Fields: map[string]string{}, Files: map[string]fakeUpload{}, At: time.Now()}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return c, err
		}
		for k, v := range r.MultipartForm.Value {
			c.Fields[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			fh := fhs[0]
			rd, err := fh.Open()
			if err != nil {
				return c, err
			}
			data, err := io.ReadAll(rd)
			rd.Close()
			if err != nil {
				return c, err
			}
			c.Files[k] = fakeUpload{Name: fh.Filename, Data: data}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return c, err
		}
		for k, v := range r.PostForm {
			c.Fields[k] = v[0]
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return c, err
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				c.Fields[k] = s
				continue
			}
			b, _ := json.Marshal(v)
			c.Fields[k] = string(b)
		}
	case "":
		// A method without parameters.
	default:
		return c, fmt.Errorf("content type %q", ct)
	}
	return c, nil
}

// result is the success answer of a method.
func (f *fakeAPI) result(c apiCall) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch c.Method {
	case "sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup":
		chatID, err := strconv.ParseInt(c.Fields["chat_id"], 10, 64)
		if err != nil {
			return nil, &apiError{Code: 400, Description: "Bad Request: chat not found"}
		}
		f.nextMsg++
		msg := map[string]any{
			"message_id": f.nextMsg, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chatID, "type": "private"},
		}
		if c.Method == "sendMessage" || c.Method == "editMessageText" {
			if c.Fields["text"] == "" {
				return nil, &apiError{Code: 400, Description: "Bad Request: message text is empty"}
			}
			msg["text"] = c.Fields["text"]
		}
		if c.Method == "sendPhoto" {
			msg["photo"] = []any{map[string]any{"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}}
		}
		return msg, nil
	case "getFile":
		ff, ok := f.files[c.Fields["file_id"]]
		if !ok {
			return nil, &apiError{Code: 400, Description: "Bad Request: invalid file_id"}
		}
		size := ff.size
		if size == 0 {
			size = int64(len(ff.data))
		}
		if size > 20<<20 {
			return nil, &apiError{Code: 400, Description: "Bad Request: file is too big"}
		}
		return map[string]any{"file_id": c.Fields["file_id"], "file_unique_id": "u-" + c.Fields["file_id"], "file_size": size, "file_path": ff.path}, nil
	case "answerCallbackQuery", "setMyCommands", "deleteWebhook", "setWebhook":
		return true, nil
	}
	return nil, &apiError{Code: 404, Description: "Not Found: method not found"}
}

func (f *fakeAPI) serveFile(w http.ResponseWriter, r *http.Request, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ff := range f.files {
		if ff.path == path && !ff.gone {
			w.Write(ff.data)
			return
		}
	}
	http.NotFound(w, r)
}

// serveUpdates answers getUpdates: the queued updates from offset on, or an
// empty list after a short wait.
func (f *fakeAPI) serveUpdates(w http.ResponseWriter, r *http.Request, c apiCall) {
	offset, _ := strconv.ParseInt(c.Fields["offset"], 10, 64)
	deadline := time.After(200 * time.Millisecond)
	for {
		f.mu.Lock()
		var out []json.RawMessage
		for _, u := range f.updates {
			var head struct {
				ID int64 `json:"update_id"`
			}
			json.Unmarshal(u, &head)
			if head.ID >= offset {
				out = append(out, u)
			}
		}
		changed := f.changed
		f.mu.Unlock()
		if len(out) > 0 {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-changed:
		case <-deadline:
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": []any{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fakeAPI) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// queue adds an update for getUpdates.
func (f *fakeAPI) queue(update any) {
	b, err := json.Marshal(update)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.updates = append(f.updates, b)
	f.signalLocked()
	f.mu.Unlock()
}

// addFile makes a file downloadable by file_id.
func (f *fakeAPI) addFile(id, path string, data []byte, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[id] = fakeFile{path: path, data: data, size: size}
}

func (f *fakeAPI) setFail(fn func(c apiCall) *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

// callsOf returns the calls of the given methods (all when none given).
func (f *fakeAPI) callsOf(methods ...string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// sent returns the messages sent to users: sendMessage texts and sendPhoto
// captions.
func (f *fakeAPI) sent() []apiCall { return f.callsOf("sendMessage", "sendPhoto") }

// waitFor waits until cond holds for the calls so far.
func (f *fakeAPI) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			f.t.Fatalf("timed out waiting for %s; calls: %v", what, f.methods())
		}
	}
}

func (f *fakeAPI) methods() []string {
	var out []string
	for _, c := range f.callsOf() {
		out = append(out, c.Method)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
