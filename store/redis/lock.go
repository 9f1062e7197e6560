package redis

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
)

// The per-user lock is a ticket lock in one Redis hash per candidate
// (lockKey), so that messages are handled in arrival order across every
// process, like customers taking numbers at a counter:
//
//   - next      the last ticket handed out (HINCRBY takes a new one)
//   - serving   the ticket whose turn it is
//   - held      the ticket that claimed its turn (holds the lock)
//   - deadline  server time in ms until which `serving` may hold (lease)
//     or, if it has not claimed yet, may still claim (claim window)
//   - a:<n>     ticket n gave up waiting; it is skipped when its turn comes
//
// A waiter polls (claimScript) until serving reaches its ticket; it polls
// every millisecond when it is next in line and less often the further back
// it stands (up to 20ms), which keeps Redis load small without a blocked
// connection per waiter (BLPOP would hold one pooled connection each).
// A holder renews its lease while it holds the lock; if it crashes, the lease
// runs out and the next waiter skips it, so no candidate is blocked forever.
// Unlocking with a ticket that is no longer served does nothing, so a stale
// unlock never releases someone else's turn.

// lockLib is shared by the lock scripts.
//
//	now()            the Redis server time in ms
//	advance(k, s, …) moves serving past s and past abandoned tickets, and
//	                 gives the new ticket the claim window
const lockLib = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function advance(k, s, at, window)
  s = s + 1
  while redis.call('HDEL', k, 'a:' .. s) == 1 do
    s = s + 1
  end
  redis.call('HSET', k, 'serving', s, 'deadline', at + window)
  redis.call('HDEL', k, 'held')
  return s
end
`

// claimScript takes a ticket (ARGV[1] = 0) or polls with one, and claims
// the lock when the ticket's turn has come.
//
//	KEYS[1]  the lock hash (lockKey)
//	ARGV[1]  the caller's ticket, or 0 to take a new one
//	ARGV[2]  lease in ms
//	ARGV[3]  claim window in ms
//	ARGV[4]  idle time to live of the hash in ms
//	returns  {ticket, state, serving}: state 1 = the caller holds the lock,
//	         0 = wait, -1 = the ticket's turn passed (state lost or skipped):
//	         take a new one
var claimScript = goredis.NewScript(lockLib + `
local k = KEYS[1]
local t = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local at = now()
if t == 0 then
  t = redis.call('HINCRBY', k, 'next', 1)
end
redis.call('PEXPIRE', k, ARGV[4])
local s = tonumber(redis.call('HGET', k, 'serving'))
if s == nil then
  -- First use, or the hash was lost: this ticket opens the queue.
  s = t
  redis.call('HSET', k, 'serving', s)
  if tonumber(redis.call('HGET', k, 'next') or '0') < t then
    redis.call('HSET', k, 'next', t)
  end
elseif s < t and at > tonumber(redis.call('HGET', k, 'deadline') or '0') then
  -- The ticket being served let its lease or claim window run out.
  s = advance(k, s, at, window)
end
if s == t then
  redis.call('HSET', k, 'held', t, 'deadline', at + lease)
  return {t, 1, s}
end
if s > t then
  return {t, -1, s}
end
return {t, 0, s}
`)

// renewScript extends the holder's lease.
//
//	KEYS[1]  the lock hash
//	ARGV[1]  the holder's ticket
//	ARGV[2]  lease in ms
//	returns  1 if the ticket still holds the lock, 0 otherwise
var renewScript = goredis.NewScript(lockLib + `
local k = KEYS[1]
if redis.call('HGET', k, 'held') == ARGV[1] and redis.call('HGET', k, 'serving') == ARGV[1] then
  redis.call('HSET', k, 'deadline', now() + tonumber(ARGV[2]))
  return 1
end
return 0
`)

// releaseScript ends a ticket: the holder unlocks, or a waiter gives up.
//
//	KEYS[1]  the lock hash
//	ARGV[1]  the ticket
//	ARGV[2]  claim window in ms
//	returns  1 if the turn passed to the next ticket, 0 if the ticket was
//	         marked abandoned (still waiting) or was no longer served
var releaseScript = goredis.NewScript(lockLib + `
local k = KEYS[1]
local t = tonumber(ARGV[1])
local s = tonumber(redis.call('HGET', k, 'serving'))
if s == nil then
  return 0
end
if s == t then
  advance(k, s, now(), tonumber(ARGV[2]))
  return 1
end
if s < t then
  redis.call('HSET', k, 'a:' .. t, 1)
end
return 0
`)

// lockIdleTTL is how long an unused lock hash stays; it only has to outlive
// the longest wait.
const lockIdleTTL = time.Hour

// LockUser waits until it is id's turn and takes the lock. Callers are
// served in the order they called LockUser, across processes. unlock passes
// the turn on; calling it more than once is harmless. A caller whose ctx
// ends stops waiting, gives up its place and gets ctx's error.
func (s *Store) LockUser(ctx context.Context, id store.Identity) (func(), error) {
	key := s.lockKey(id)
	var ticket int64
	for {
		t, state, serving, err := s.claim(ctx, key, ticket)
		if err != nil {
			if ticket != 0 {
				s.release(key, ticket)
			}
			return nil, fmt.Errorf("lock user: %w", err)
		}
		ticket = t
		switch state {
		case 1:
			return s.holder(key, ticket), nil
		case -1:
			ticket = 0 // our turn passed while we were away: queue again
			continue
		}
		wait := time.Duration(ticket-serving) * time.Millisecond
		wait = min(max(wait, time.Millisecond), s.maxPoll)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.release(key, ticket)
			return nil, fmt.Errorf("lock user: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

func (s *Store) claim(ctx context.Context, key string, ticket int64) (t, state, serving int64, err error) {
	res, err := claimScript.Run(ctx, s.rdb, []string{key}, ticket, s.lease.Milliseconds(),
		s.claimWindow.Milliseconds(), lockIdleTTL.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, 0, translate(err)
	}
	if len(res) != 3 {
		return 0, 0, 0, fmt.Errorf("unexpected lock script result %v", res)
	}
	return res[0], res[1], res[2], nil
}

// holder returns the unlock function of ticket, and keeps its lease renewed
// until it is called.
func (s *Store) holder(key string, ticket int64) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(s.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), s.lease/3)
				held, err := renewScript.Run(ctx, s.rdb, []string{key}, strconv.FormatInt(ticket, 10), s.lease.Milliseconds()).Int()
				cancel()
				if err == nil && held == 0 {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			s.release(key, ticket)
		})
	}
}

// release ends ticket: passes the turn on if it is being served, or marks
// it abandoned. It runs even when the caller's context has ended; if Redis
// cannot be reached the lease or claim window frees the turn later.
func (s *Store) release(key string, ticket int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, s.rdb, []string{key}, ticket, s.claimWindow.Milliseconds()).Err()
}

// Waiters returns how many LockUser calls are waiting for id's lock
// (tickets after the one being served).
func (s *Store) Waiters(ctx context.Context, id store.Identity) (int, error) {
	vals, err := s.rdb.HMGet(ctx, s.lockKey(id), "next", "serving").Result()
	if err != nil {
		return 0, fmt.Errorf("lock waiters: %w", translate(err))
	}
	next, _ := vals[0].(string)
	serving, _ := vals[1].(string)
	n, err1 := strconv.ParseInt(next, 10, 64)
	sv, err2 := strconv.ParseInt(serving, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, nil
	}
	return int(max(n-sv, 0)), nil
}
