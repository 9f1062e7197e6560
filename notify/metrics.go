package notify

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"regbot/store"
)

// metrics are notify's Prometheus metrics.
type metrics struct {
	// attempts counts delivery attempts by path (fast, queue), channel and
	// result (sent, retry, rate_limited, failed, skipped).
	attempts *prometheus.CounterVec
	// handedOver counts fast-path rows given to the queue, by reason.
	handedOver *prometheus.CounterVec
	// waits counts queue runs that waited (order, claim) without sending.
	waits *prometheus.CounterVec
	// backlog is how many rows the fast path holds.
	backlog prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_outbox_attempts_total",
			Help: "Outbox delivery attempts by path (fast, queue), channel and result (sent, retry, rate_limited, failed, skipped).",
		}, []string{"path", "channel", "result"}),
		handedOver: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_outbox_handed_over_total",
			Help: "Outbox rows the fast path gave to the queue, by reason (failed, behind_failure, unclaimed, backlog, lease, stopping).",
		}, []string{"reason"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_outbox_waits_total",
			Help: "Queue runs that waited instead of sending: behind an earlier message of the same candidate (order), or for another deliverer's claim or the due time (claim).",
		}, []string{"reason"}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "regbot_outbox_fast_backlog",
			Help: "Outbox rows the fast path holds in memory, waiting for a worker.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.attempts, err = register(reg, m.attempts); err != nil {
		return nil, err
	}
	if m.handedOver, err = register(reg, m.handedOver); err != nil {
		return nil, err
	}
	if m.waits, err = register(reg, m.waits); err != nil {
		return nil, err
	}
	if m.backlog, err = register(reg, m.backlog); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c with reg, or returns the collector registered
// before under the same name (a second Notifier in the process).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("notify metrics: %w", err)
}

// observe counts one attempt's outcome.
func (n *Notifier) observe(path, channel string, out outcome) {
	result := string(out.settlement.State)
	switch {
	case out.wait > 0:
		result = "rate_limited"
	case out.retry:
		result = "retry"
	case out.settlement.State == store.DeliveryPending:
		result = "retry"
	}
	n.metrics.attempts.WithLabelValues(path, channel, result).Inc()
}
