package wechat

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// fake is the process-wide fake WeChat API. util.SetURIModifier is a global
// of the SDK, so every test talks to this one server; tests that use it do
// not run in parallel and call fake.reset first.
var fake *fakeAPI

func TestMain(m *testing.M) {
	fake = newFakeAPI()
	srv := httptest.NewServer(fake)
	fake.url = srv.URL
	util.SetURIModifier(func(uri string) string {
		switch {
		case strings.HasPrefix(uri, "https://api.weixin.qq.com/"):
			return srv.URL + strings.TrimPrefix(uri, "https://api.weixin.qq.com")
		case strings.HasPrefix(uri, srv.URL+"/"):
			return uri
		default:
			// Tests never leave the machine: any other URL (a fuzzed PicUrl)
			// gets the fake's 404.
			return srv.URL + "/elsewhere"
		}
	})
	UseHTTPClient(&http.Client{Timeout: 10 * time.Second})
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// apiCall is one request the fake received.
type apiCall struct {
	API   string // token, stable_token, custom_send, template_send, media_upload, media_get, menu_create
	Token string // the access_token it carried
	Body  []byte
	Code  int64 // the errcode answered
	At    time.Time
}

// fakeAPI speaks WeChat's API wire format: JSON answers with errcode and
// errmsg, tokens that a new classic fetch invalidates, media as bytes.
type fakeAPI struct {
	url string

	mu    sync.Mutex
	cond  *sync.Cond
	gen   int // the valid token is "T<gen>"
	calls []apiCall
	// fail holds errcodes to answer, per API, before answering normally.
	fail map[string][]int64
	// media are the downloadable temporary media by media_id.
	media map[string][]byte
	// mediaDelay delays media downloads.
	mediaDelay time.Duration
	uploads    int
}

func newFakeAPI() *fakeAPI {
	f := &fakeAPI{gen: 1, fail: map[string][]int64{}, media: map[string][]byte{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// reset forgets every call and script and revokes the current token, so no
// token cached by an earlier test is valid.
func (f *fakeAPI) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.calls = nil
	f.fail = map[string][]int64{}
	f.media = map[string][]byte{}
	f.mediaDelay = 0
	f.uploads = 0
}

// revoke makes the current access token invalid, as a fetch elsewhere would.
func (f *fakeAPI) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
}

// failNext makes the next calls of api answer the errcodes, in order.
func (f *fakeAPI) failNext(api string, codes ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[api] = append(f.fail[api], codes...)
}

func (f *fakeAPI) setMedia(id string, data []byte, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.media[id] = data
	f.mediaDelay = delay
}

// callsOf returns the calls of api, in order.
func (f *fakeAPI) callsOf(api string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.API == api {
			out = append(out, c)
		}
	}
	return out
}

// okCalls returns the successful calls of api.
func (f *fakeAPI) okCalls(api string) []apiCall {
	var out []apiCall
	for _, c := range f.callsOf(api) {
		if c.Code == 0 {
			out = append(out, c)
		}
	}
	return out
}

// waitOK waits until api has succeeded n times and returns those calls.
func (f *fakeAPI) waitOK(t *testing.T, api string, n int, timeout time.Duration) []apiCall {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		calls := f.okCalls(api)
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d successful calls after %s, want %d (all calls: %v)", api, len(calls), timeout, n, f.summary())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fakeAPI) summary() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, c := range f.calls {
		s = append(s, fmt.Sprintf("%s:%d", c.API, c.Code))
	}
	return s
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	api := map[string]string{
		"/cgi-bin/token":                 "token",
		"/cgi-bin/stable_token":          "stable_token",
		"/cgi-bin/message/custom/send":   "custom_send",
		"/cgi-bin/message/template/send": "template_send",
		"/cgi-bin/media/upload":          "media_upload",
		"/cgi-bin/media/get":             "media_get",
		"/cgi-bin/menu/create":           "menu_create",
	}[r.URL.Path]
	if strings.HasPrefix(r.URL.Path, "/pic/") {
		api = "pic"
	}
	if api == "" {
		http.NotFound(w, r)
		return
	}

	f.mu.Lock()
	call := apiCall{API: api, Token: q.Get("access_token"), Body: body, At: time.Now()}
	answer := func(code int64, v map[string]any) {
		call.Code = code
		f.calls = append(f.calls, call)
		f.mu.Unlock()
		if v == nil {
			v = map[string]any{}
		}
		v["errcode"] = code
		v["errmsg"] = map[bool]string{true: "ok", false: "fake error"}[code == 0]
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}

	switch api {
	case "token":
		if q.Get("grant_type") != "client_credential" || q.Get("appid") == "" || q.Get("secret") == "" {
			answer(40013, nil)
			return
		}
		f.gen++ // a classic fetch invalidates the previous token
		answer(0, map[string]any{"access_token": fmt.Sprintf("T%d", f.gen), "expires_in": 7200})
		return
	case "stable_token":
		var req struct {
			GrantType    string `json:"grant_type"`
			AppID        string `json:"appid"`
			Secret       string `json:"secret"`
			ForceRefresh bool   `json:"force_refresh"`
		}
		if json.Unmarshal(body, &req) != nil || req.GrantType != "client_credential" || req.AppID == "" || req.Secret == "" {
			answer(40013, nil)
			return
		}
		if req.ForceRefresh {
			f.gen++
		}
		answer(0, map[string]any{"access_token": fmt.Sprintf("T%d", f.gen), "expires_in": 7200})
		return
	case "pic":
		data, ok := f.media[strings.TrimPrefix(r.URL.Path, "/pic/")]
		f.calls = append(f.calls, call)
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(data)
		return
	}

	if call.Token != fmt.Sprintf("T%d", f.gen) {
		answer(40001, nil)
		return
	}
	if codes := f.fail[api]; len(codes) > 0 {
		f.fail[api] = codes[1:]
		answer(codes[0], nil)
		return
	}
	switch api {
	case "custom_send", "menu_create":
		if !json.Valid(body) {
			answer(47001, nil)
			return
		}
		answer(0, nil)
	case "template_send":
		answer(0, map[string]any{"msgid": len(f.calls) + 1})
	case "media_upload":
		f.uploads++
		id := fmt.Sprintf("UP%d", f.uploads)
		// Keep the uploaded bytes as the call's body, for the test to check.
		req, err := http.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		if err != nil {
			answer(-1, nil)
			return
		}
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		file, _, err := req.FormFile("media")
		if err != nil || q.Get("type") != "image" {
			answer(41005, nil)
			return
		}
		call.Body, _ = io.ReadAll(file)
		answer(0, map[string]any{"type": "image", "media_id": id, "created_at": time.Now().Unix()})
	case "media_get":
		data, ok := f.media[q.Get("media_id")]
		delay := f.mediaDelay
		if !ok {
			answer(40007, nil)
			return
		}
		f.calls = append(f.calls, call)
		f.mu.Unlock()
		time.Sleep(delay)
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(data)
	}
}
