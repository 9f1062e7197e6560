package wechat

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the adapter's Prometheus series.
type metrics struct {
	// requests counts webhook requests by outcome: reply (passive reply),
	// success (answered "success", reply by customer-service message or
	// nothing to say), duplicate, ignored (an event or message type the bot
	// does not handle), unsubscribed (the candidate unfollowed: marked
	// unreachable), retry (the turn failed for now: answered after WeChat's
	// deadline, so that it delivers again), verified (echostr), and the
	// refusals bad_signature,
	// stale, too_large, malformed, unavailable.
	requests *prometheus.CounterVec
	// apiErrors counts failed WeChat API calls by API and errcode ("0" for
	// a network or HTTP failure).
	apiErrors *prometheus.CounterVec
	// sent counts messages that went out, by kind: passive, text, image,
	// menu, template.
	sent *prometheus.CounterVec
	// undelivered counts messages given up on, by reason.
	undelivered *prometheus.CounterVec
	// tokenFetches counts access tokens fetched from WeChat.
	tokenFetches prometheus.Counter
	// turnSeconds is how long turns take, by how the reply went out
	// (passive or customer).
	turnSeconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_wechat_webhook_requests_total",
			Help: "WeChat webhook requests by outcome.",
		}, []string{"result"})),
		apiErrors: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_wechat_api_errors_total",
			Help: "Failed WeChat API calls by API and errcode (0: network or HTTP failure).",
		}, []string{"api", "errcode"})),
		sent: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_wechat_messages_sent_total",
			Help: "Messages sent to candidates on WeChat, by kind.",
		}, []string{"kind"})),
		undelivered: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_wechat_messages_undelivered_total",
			Help: "Messages to candidates on WeChat given up on, by reason.",
		}, []string{"reason"})),
		tokenFetches: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "regbot_wechat_token_fetches_total",
			Help: "Access tokens fetched from WeChat.",
		})),
		turnSeconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "regbot_wechat_turn_seconds",
			Help:    "Duration of WeChat turns (media download and dialog), by reply path.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5, 10, 30},
		}, []string{"path"})),
	}
	return m
}

// register registers c, or returns the collector already registered under
// the same description (two adapters in one process share the series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

func (m *metrics) apiError(api string, code int64) {
	m.apiErrors.WithLabelValues(api, strconv.FormatInt(code, 10)).Inc()
}
