package bot

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"time"
)

// NewTransport returns an HTTP transport for a platform API client that
// keeps up to conns connections per host open and reuses them (Go's default
// keeps two idle per host, so a burst of sends opens a new TCP and TLS
// connection for most of them).
func NewTransport(conns int) *http.Transport {
	conns = max(conns, 2)
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// maxBuffered is the largest request body BufferBodies sends in one piece.
const maxBuffered = 64 << 10

// BufferBodies wraps rt so that a request body of unknown length (0 or -1; a client
// library streaming a multipart form through a pipe) that fits in 64 KB is
// read first and sent in one piece with its Content-Length. Streamed, it
// goes out in chunks, each flushed to the socket on its own: one system
// call per form field. Longer bodies are still streamed.
func BufferBodies(rt http.RoundTripper) http.RoundTripper { return bufferBodies{rt} }

type bufferBodies struct{ next http.RoundTripper }

func (t bufferBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > 0 {
		return t.next.RoundTrip(req)
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxBuffered+1))
	if err != nil {
		req.Body.Close()
		return nil, err
	}
	r := *req // RoundTrip must not change req
	if len(data) <= maxBuffered {
		req.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.ContentLength = int64(len(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		if len(data) == 0 {
			r.Body = http.NoBody
		}
	} else {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), req.Body), req.Body}
	}
	return t.next.RoundTrip(&r)
}
