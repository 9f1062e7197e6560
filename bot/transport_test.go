package bot_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"regbot/bot"
)

// TestBufferBodies: a body of unknown length arrives whole with its length
// when it fits the buffer, chunked (and whole) when it does not; a body of
// known length goes as it is.
func TestBufferBodies(t *testing.T) {
	type got struct {
		length  int64
		chunked bool
		body    string
	}
	seen := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- got{r.ContentLength, len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked", string(b)}
	}))
	defer srv.Close()
	client := &http.Client{Transport: bot.BufferBodies(http.DefaultTransport)}
	piped := func(s string) io.Reader {
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < len(s); i += 100 {
				_, _ = pw.Write([]byte(s[i:min(i+100, len(s))]))
			}
			pw.Close()
		}()
		return pr
	}
	small, large := strings.Repeat("field=value&", 50), strings.Repeat("x", 100<<10)
	for _, c := range []struct {
		name    string
		body    io.Reader
		want    string
		chunked bool
		length  int64 // the request's ContentLength when not as NewRequest sets it
	}{
		{"small pipe", piped(small), small, false, 0},
		{"small pipe, length -1 (unknown)", piped(small), small, false, -1},
		{"large pipe", piped(large), large, true, 0},
		{"known length", bytes.NewReader([]byte(small)), small, false, 0},
		{"empty pipe", piped(""), "", false, 0},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, c.body)
		if err != nil {
			t.Fatal(err)
		}
		if c.length != 0 {
			req.ContentLength = c.length
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		resp.Body.Close()
		g := <-seen
		if g.body != c.want || g.chunked != c.chunked || (!c.chunked && g.length != int64(len(c.want))) {
			t.Errorf("%s: server got length %d chunked %v body %d bytes, want %d bytes chunked %v", c.name, g.length, g.chunked, len(g.body), len(c.want), c.chunked)
		}
	}
}
