package memory

import (
	"context"
	"fmt"
	"math"
	"time"

	"regbot/store"
)

// msgState is what the fast path knows of a message id: in flight (held by
// a running turn) or done with its reply, until exp.
type msgState struct {
	done  bool
	reply []byte
	exp   time.Time
}

// userBucket is an identity's token bucket; told is set once the identity
// was told to slow down, until a message passes again.
type userBucket struct {
	bucket
	told bool
}

// Begin claims req.MsgID, takes a token from the identity's bucket, waits
// for the identity's turn in arrival order and returns the cached session,
// as store/redis does within one process.
func (s *Store) Begin(ctx context.Context, req store.BeginRequest) (store.Begun, error) {
	now := s.now()
	mk := req.Identity.Key() + "\x00" + req.MsgID
	var b store.Begun
	s.mu.Lock()
	if req.MsgID != "" {
		if m, ok := s.msgs[mk]; ok && now.Before(m.exp) {
			s.mu.Unlock()
			if m.done {
				return store.Begun{State: store.BeginDone, Reply: clone(m.reply)}, nil
			}
			return store.Begun{State: store.BeginBusy}, nil
		}
		s.msgs[mk] = msgState{exp: now.Add(time.Hour)}
		s.sweepMsgs(now)
	}
	if req.Rate > 0 {
		ub := s.userBuckets[req.Identity.Key()]
		if ub.at.IsZero() {
			ub.tokens, ub.at = float64(req.Burst), now
		}
		if elapsed := now.Sub(ub.at).Seconds(); elapsed > 0 {
			ub.tokens = math.Min(float64(req.Burst), ub.tokens+elapsed*req.Rate)
		}
		ub.at = now
		if ub.tokens >= 1 {
			ub.tokens--
			ub.told = false
		} else {
			b.State = store.BeginLimited
			b.Notify = !ub.told
			ub.told = true
		}
		s.userBuckets[req.Identity.Key()] = ub
	}
	s.mu.Unlock()
	unlock, err := s.LockUser(ctx, req.Identity)
	if err != nil {
		if req.MsgID != "" {
			s.mu.Lock()
			delete(s.msgs, mk)
			s.mu.Unlock()
		}
		return store.Begun{}, fmt.Errorf("begin turn: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextToken++
	b.Token = s.nextToken
	s.held[b.Token] = unlock
	if c, ok := s.sessions[req.Identity.Key()]; ok {
		b.Cached = c
		b.Cached.Data = clone(c.Data)
	}
	return b, nil
}

// Finish saves f.Session (unless a later one is cached), marks the message
// done with f.Reply and passes the identity's turn on.
func (s *Store) Finish(_ context.Context, req store.BeginRequest, b store.Begun, f store.Finish) error {
	s.mu.Lock()
	if f.Session != nil {
		key := req.Identity.Key()
		if cur, ok := s.sessions[key]; !ok || f.Session.Seq >= cur.Seq {
			c := *f.Session
			c.Data = clone(c.Data)
			s.sessions[key] = c
		}
	}
	if req.MsgID != "" {
		s.msgs[req.Identity.Key()+"\x00"+req.MsgID] = msgState{done: true, reply: clone(f.Reply), exp: s.now().Add(store.DefaultDoneTTL)}
	}
	unlock := s.held[b.Token]
	delete(s.held, b.Token)
	s.mu.Unlock()
	if unlock != nil {
		unlock()
	}
	return nil
}

// Abort releases the message id and passes the identity's turn on.
func (s *Store) Abort(_ context.Context, req store.BeginRequest, b store.Begun) error {
	s.mu.Lock()
	if req.MsgID != "" {
		mk := req.Identity.Key() + "\x00" + req.MsgID
		if m, ok := s.msgs[mk]; ok && !m.done {
			delete(s.msgs, mk)
		}
	}
	unlock := s.held[b.Token]
	delete(s.held, b.Token)
	s.mu.Unlock()
	if unlock != nil {
		unlock()
	}
	return nil
}

// CachedSession returns the session cached for id, or store.ErrNotFound.
func (s *Store) CachedSession(_ context.Context, id store.Identity) (store.Cached, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.sessions[id.Key()]
	if !ok {
		return store.Cached{}, fmt.Errorf("cached session: %w", store.ErrNotFound)
	}
	c.Data = clone(c.Data)
	return c, nil
}

// DropSessions forgets every cached session and message id, as a Redis
// flush would; the record keeps its snapshots. Tests use it to exercise
// recovery.
func (s *Store) DropSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
	clear(s.msgs)
}

// sweepMsgs drops expired message ids now and then. s.mu is held.
func (s *Store) sweepMsgs(now time.Time) {
	if len(s.msgs) < 1024 || len(s.msgs)%1024 != 0 {
		return
	}
	for k, m := range s.msgs {
		if !now.Before(m.exp) {
			delete(s.msgs, k)
		}
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
