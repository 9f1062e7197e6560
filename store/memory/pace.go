package memory

import (
	"context"
	"fmt"
	"time"
)

// TakeRate grants up to n sends of the rate bucket key (one every
// interval, bursts of burst), in this process only (a GCRA, as
// store/redis and store/postgres keep it for every process); it returns
// how many it granted and, when none, how long until the next.
func (s *Store) TakeRate(_ context.Context, key string, interval time.Duration, burst, n int) (int, time.Duration, error) {
	if interval <= 0 || burst < 1 || n < 1 {
		return 0, 0, fmt.Errorf("rate %s: interval %s, burst %d and n %d must be positive", key, interval, burst, n)
	}
	s.paceMu.Lock()
	defer s.paceMu.Unlock()
	if s.pace == nil {
		s.pace = map[string]time.Time{}
	}
	now := time.Now()
	tat := s.pace[key]
	if tat.Before(now) {
		tat = now
	}
	room := now.Add(time.Duration(burst-1) * interval).Sub(tat)
	if room < 0 {
		return 0, -room, nil
	}
	granted := min(n, int(room/interval)+1)
	s.pace[key] = tat.Add(time.Duration(granted) * interval)
	return granted, 0, nil
}

// HoldRate grants no send of the rate bucket key for d; then one, and the
// rate again.
func (s *Store) HoldRate(_ context.Context, key string, interval time.Duration, burst int, d time.Duration) error {
	s.paceMu.Lock()
	defer s.paceMu.Unlock()
	if s.pace == nil {
		s.pace = map[string]time.Time{}
	}
	until := time.Now().Add(d + time.Duration(burst-1)*interval)
	if s.pace[key].Before(until) {
		s.pace[key] = until
	}
	return nil
}
