package telegram

import (
	"context"
	"sync"
)

// chatQueue lines up each chat's updates: a ticket taken with join may run
// once every ticket taken before it for the same chat is done. Tickets are
// taken where the order is still known (the poller's loop, the webhook's
// arrival), the work runs later, possibly in another goroutine.
type chatQueue struct {
	mu    sync.Mutex
	tails map[string]chan struct{}
}

func newChatQueue() *chatQueue { return &chatQueue{tails: map[string]chan struct{}{}} }

// ticket is one update's place in its chat's line.
type ticket struct {
	q    *chatQueue
	key  string
	prev <-chan struct{}
	mine chan struct{}
}

// join takes the next place in key's line.
func (q *chatQueue) join(key string) *ticket {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := &ticket{q: q, key: key, prev: q.tails[key], mine: make(chan struct{})}
	q.tails[key] = t.mine
	return t
}

// wait blocks until the ticket's turn or until ctx is done. After a nil
// return the caller must call done; after an error, abandon.
func (t *ticket) wait(ctx context.Context) error {
	if t.prev == nil {
		return nil
	}
	select {
	case <-t.prev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// done lets the next ticket of the chat run.
func (t *ticket) done() {
	t.q.mu.Lock()
	if t.q.tails[t.key] == t.mine {
		delete(t.q.tails, t.key)
	}
	t.q.mu.Unlock()
	close(t.mine)
}

// abandon gives the place up without running: the line moves on once the
// tickets before it are done.
func (t *ticket) abandon() {
	if t.prev == nil {
		t.done()
		return
	}
	go func() {
		<-t.prev
		t.done()
	}()
}

// len is how many chats have updates in line (tests).
func (q *chatQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tails)
}

// recentIDs remembers the last n update ids.
type recentIDs struct {
	mu   sync.Mutex
	set  map[int64]struct{}
	ring []int64
	next int
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{set: make(map[int64]struct{}, n), ring: make([]int64, 0, n)}
}

// add records id and reports whether it was new.
func (r *recentIDs) add(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[id]; ok {
		return false
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[id] = struct{}{}
	return true
}

// forget drops id, so that its redelivery is taken.
func (r *recentIDs) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.set, id)
}
