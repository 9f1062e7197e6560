package memory

import (
	"context"
	"fmt"
	"sync"

	"regbot/store"
)

// userLock is one candidate's lock: held, and the waiters in arrival order.
// A waiter's channel is closed when the lock is handed to it.
type userLock struct {
	held    bool
	waiters []chan struct{}
}

// LockUser waits until id's lock is free and takes it. Waiters are served in
// the order they called LockUser. unlock hands the lock to the next waiter;
// calling it more than once is harmless. A waiter whose ctx ends leaves the
// queue and gets ctx's error.
func (s *Store) LockUser(ctx context.Context, id store.Identity) (func(), error) {
	key := id.Key()
	s.mu.Lock()
	l := s.locks[key]
	if l == nil {
		l = &userLock{}
		s.locks[key] = l
	}
	if !l.held {
		l.held = true
		s.mu.Unlock()
		return s.unlocker(key, l), nil
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	s.mu.Unlock()

	select {
	case <-ch:
		return s.unlocker(key, l), nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-ch:
			// Handed over while we gave up: pass it on.
			s.mu.Unlock()
			s.unlocker(key, l)()
		default:
			for i, w := range l.waiters {
				if w == ch {
					l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
					break
				}
			}
			s.mu.Unlock()
		}
		return nil, fmt.Errorf("lock user: %w", ctx.Err())
	}
}

func (s *Store) unlocker(key string, l *userLock) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(l.waiters) == 0 {
				l.held = false
				delete(s.locks, key)
				return
			}
			next := l.waiters[0]
			l.waiters = l.waiters[1:]
			close(next)
		})
	}
}

// Waiters returns how many LockUser calls are waiting for id's lock.
func (s *Store) Waiters(_ context.Context, id store.Identity) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.locks[id.Key()]; l != nil {
		return len(l.waiters), nil
	}
	return 0, nil
}
