package main

import (
	"context"
	"time"

	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/notify"
)

// broadcastRecord is what broadcasts need of the record
// (store/postgres.Store).
type broadcastRecord interface {
	broadcasts.Store
	broadcasts.RunnerStore
}

// fallbackLimiter takes sends from primary (Redis), or from secondary
// (PostgreSQL) when primary fails: while Redis is out of reach the
// record's bucket keeps the rate, shared by every process all the same.
type fallbackLimiter struct{ primary, secondary broadcasts.Limiter }

// TakeRate takes from primary, or secondary when primary fails.
func (l fallbackLimiter) TakeRate(ctx context.Context, key string, interval time.Duration, burst, n int) (int, time.Duration, error) {
	granted, wait, err := l.primary.TakeRate(ctx, key, interval, burst, n)
	if err != nil {
		return l.secondary.TakeRate(ctx, key, interval, burst, n)
	}
	return granted, wait, nil
}

// HoldRate holds both buckets.
func (l fallbackLimiter) HoldRate(ctx context.Context, key string, interval time.Duration, burst int, d time.Duration) error {
	err := l.primary.HoldRate(ctx, key, interval, burst, d)
	if err2 := l.secondary.HoldRate(ctx, key, interval, burst, d); err != nil {
		return err2
	}
	return nil
}

// newBroadcasts builds the broadcast service and this process's Runner on
// the record.
func (s *server) newBroadcasts(plan *dialogs.Plan, blobs dialogs.BlobStore) error {
	s.broadcastService = broadcasts.NewService(s.stores.broadcasts, plan, blobs, s.log)
	r, err := broadcasts.NewRunner(s.cfg.Broadcasts, s.broadcastService, s.stores.broadcasts, s.notifier, s.stores.pace, s.log)
	if err != nil {
		return err
	}
	s.broadcasts = r
	return nil
}

// paced is channel's sender with the broadcasts' shared rate applied to
// its broadcast messages (Runner.Pace).
func (s *server) paced(channel string, sender notify.Sender) notify.Sender {
	return s.broadcasts.Pace(channel, sender)
}
