package bot

import (
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
