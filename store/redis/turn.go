package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
)

// A turn on Redis is two scripts (docs/turns.md): beginScript claims the
// message id, takes a token from the candidate's bucket, takes the
// candidate's turn in arrival order and returns the cached session;
// finishScript saves the session, marks the message done with its reply and
// passes the turn on. All keys of one candidate carry the hash tag
// {channel:user}, so both scripts run on one Cluster slot.
//
// The per-user lock is a ticket lock in one hash per candidate (lockKey),
// like customers taking numbers at a counter:
//
//   - next      the last ticket handed out
//   - serving   the ticket whose turn it is
//   - held      the ticket that claimed its turn (holds the lock)
//   - deadline  server time in ms until which `serving` may hold (its lease,
//     renewed by its process's heartbeat) or, before it claimed, may still
//     claim (the claim window); absent while `serving` is next+1, a ticket
//     not handed out yet, which is taken in the script that hands it out
//   - o:<n>     the owner of ticket n: "<instance>/<run>"
//   - a:<n>     ticket n gave up waiting; it is skipped when its turn comes
//
// The same hash holds the candidate's token bucket (tokens, at: server time
// in ms of the last take, told: the last message was refused and told so),
// so that a turn reads and writes the bucket with the lock.
//
// A waiter polls (the same script with its ticket) until serving reaches
// it, every millisecond when next in line and up to every 20 ms further
// back, which keeps Redis load small without a blocked connection per
// waiter. A holder whose lease runs out (its process died) is skipped, and
// so are the other tickets of the same owner; a ticket owned by an earlier
// run of the caller's own instance (a restart) is skipped at once.
//
// A message id's key holds "f<ticket>|<owner>" while its turn is in flight
// and "d<reply>" once it is recorded. An in-flight id whose ticket is no
// longer alive (its turn passed, its lease ran out, or its owner is an
// earlier run of the caller's instance) is taken over by the retry.
//
// Most turns find nobody in line: serving is next+1. Each redis.call costs
// Redis the conversion of its arguments and reply besides the command
// (about as much as a small command), so the scripts keep that case to a
// few calls (BenchmarkTurnScripts: 7 for Begin, 7 for Finish; 23 before):
// Begin reads the lock and the bucket with one HMGET and takes the ticket,
// holds it and writes the bucket with one HSET; Finish, when no ticket was
// handed out after its own (next is its ticket), moves serving on with one
// HSET and one HDEL, as there is no ticket to skip. Anything else (someone
// ahead or behind, a dead or restarted owner, a lost hash) goes the general
// way, which reads the hash as it goes.

// turnLib is shared by the turn scripts. Tickets go to redis.call as
// strings (ts): Redis formats each number given to it with snprintf, about
// a sixth of the instructions of a small redis.call.
const turnLib = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function instance(o)
  local i = string.find(o, '/[^/]*$')
  if i then
    return string.sub(o, 1, i - 1)
  end
  return o
end
-- predecessor: o is an earlier run of the caller's instance (me).
local function predecessor(o, me)
  return o and o ~= me and instance(o) == instance(me)
end
-- advance moves serving past s, past tickets that gave up, tickets of the
-- dead owner and of the caller's earlier runs, and gives the new ticket the
-- claim window.
local function advance(k, s, at, window, dead, me)
  local done = s
  s = s + 1
  while true do
    if redis.call('HDEL', k, 'a:' .. s) == 1 then
      s = s + 1
    else
      local o = redis.call('HGET', k, 'o:' .. s)
      if o and (o == dead or predecessor(o, me)) then
        redis.call('HDEL', k, 'o:' .. s)
        s = s + 1
      else
        break
      end
    end
  end
  redis.call('HSET', k, 'serving', s, 'deadline', at + window)
  redis.call('HDEL', k, 'held', 'o:' .. done)
  return s
end
-- release ends ticket ts: passes the turn on if it is served, else marks
-- it abandoned.
local function release(k, ts, window, me)
  local t = tonumber(ts)
  local v = redis.call('HMGET', k, 'serving', 'next')
  local s = tonumber(v[1])
  if s == nil then
    return 0
  end
  if s == t then
    if tonumber(v[2]) == t then
      -- Nobody behind: no ticket to skip, and the next one is taken in
      -- the script that hands it out, so it needs no claim window.
      redis.call('HSET', k, 'serving', t + 1)
      redis.call('HDEL', k, 'held', 'deadline', 'o:' .. ts)
    else
      advance(k, s, now(), window, false, me)
    end
    return 1
  end
  if s < t then
    redis.call('HSET', k, 'a:' .. ts, '1')
  end
  redis.call('HDEL', k, 'o:' .. ts)
  return 0
end
`

// beginScript claims a message and takes (ARGV[1] = 0) or polls a ticket.
//
//	KEYS     lock hash, message key, session hash
//	ARGV[1]  the caller's ticket, or 0 on the first call
//	ARGV[2]  the caller's owner id "<instance>/<run>"
//	ARGV[3]  lease in ms;  ARGV[4] claim window in ms
//	ARGV[5]  "1" when there is a message id to claim
//	ARGV[6]  bucket rate in tokens/s (0: no limit); ARGV[7] burst
//	ARGV[8]  idle time to live of the lock hash in ms
//	ARGV[9]  time to live of an in-flight message key in ms
//	returns  {0|1, ticket, notify, data, seq, cand, app}: the turn is the
//	         caller's (1: over the rate limit); {2, reply}: done before;
//	         {3}: in flight elsewhere; {4, ticket, notify, limited,
//	         serving}: wait and poll; {-1}: the ticket's turn passed, or
//	         the hash was lost since it was handed out: take a new one
var beginScript = goredis.NewScript(turnLib + `
local lk, mk, sk = KEYS[1], KEYS[2], KEYS[3]
local t, ts = tonumber(ARGV[1]), ARGV[1]
local me = ARGV[2]
local lease, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local rate, burst = tonumber(ARGV[6]), tonumber(ARGV[7])
local at = now()
local limited, notify = 0, 0
local m
if t == 0 and ARGV[5] == '1' then
  m = redis.call('GET', mk)
  if m and string.sub(m, 1, 1) == 'd' then
    return {2, string.sub(m, 2)}
  end
end
-- The lock and the bucket in one read. The fields to write are gathered
-- in set and written by one HSET (the general way writes them before it
-- reads the hash again).
local v = redis.call('HMGET', lk, 'next', 'serving', 'deadline', 'tokens', 'at', 'told')
local n, s, deadline = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]) or 0
if t ~= 0 and (n == nil or t > n) then
  -- The hash was lost (Redis restarted, or it expired) since this ticket
  -- was handed out: the ticket means nothing in the new one. Queue again.
  return {-1}
end
if n == nil then
  -- A new hash numbers its tickets from the server clock in microseconds
  -- (seconds taken modulo 10^8, so that tickets stay below 10^14 and Lua's
  -- %.14g prints them exactly): above every ticket a lost hash handed out,
  -- as no script takes a microsecond, so the release of a lost hash's
  -- holder never ends a turn of the new one. When the seconds wrap (every
  -- 3 years) a lost hash's tickets are above the new ones: its waiters
  -- queue again (above) and its holders' releases change nothing.
  local c = redis.call('TIME')
  n = (tonumber(c[1]) % 100000000) * 1000000 + tonumber(c[2])
end
local set = {}
local function put(field, value)
  set[#set + 1] = field
  set[#set + 1] = value
end
if m then
  -- In flight: alive unless its ticket's turn passed, its lease or claim
  -- window ran out, or its owner is an earlier run of this instance.
  local sep = string.find(m, '|', 2, true)
  local mt = tonumber(string.sub(m, 2, sep - 1))
  local mo = string.sub(m, sep + 1)
  local alive = s ~= nil and mt >= s and not predecessor(mo, me)
  if alive and mt == s then
    alive = at <= deadline
  end
  if alive then
    return {3}
  end
end
if t == 0 then
  if rate > 0 then
    local tokens, bat = tonumber(v[4]), tonumber(v[5])
    if tokens == nil or bat == nil then
      tokens, bat = burst, at
    end
    if at > bat then
      tokens = math.min(burst, tokens + (at - bat) * rate / 1000)
    end
    local told = '0'
    if tokens >= 1 then
      tokens = tokens - 1
    else
      limited, told = 1, '1'
      if v[6] ~= '1' then
        notify = 1
      end
    end
    put('tokens', tokens)
    put('at', at)
    put('told', told)
  end
  t = n + 1
  ts = tostring(t)
  put('next', ts)
  put('o:' .. ts, me)
  if ARGV[5] == '1' then
    redis.call('SET', mk, 'f' .. ts .. '|' .. me, 'PX', ARGV[9])
  end
end
if s == nil then
  -- A new hash (first use, expired or lost; a waiter of a lost one queued
  -- again above): this ticket opens the queue.
  s = t
  put('serving', ts)
elseif s < t then
  -- Someone is ahead: the general way, which reads the hash as it goes.
  if #set > 0 then
    redis.call('HSET', lk, unpack(set))
    set = {}
  end
  local o = redis.call('HGET', lk, 'o:' .. s)
  if predecessor(o, me) then
    s = advance(lk, s, at, window, false, me)
  elseif at > deadline then
    s = advance(lk, s, at, window, o, me)
  end
end
if s == t then
  put('held', ts)
  put('deadline', at + lease)
end
if #set > 0 then
  redis.call('HSET', lk, unpack(set))
end
-- After the writes, which may have created the hash: it lives at least as
-- long as the longest wait and as the bucket needs (a bucket left that
-- long is full again).
local ttl = ARGV[8]
if rate > 0 and burst * 1000 / rate + 60000 > tonumber(ttl) then
  ttl = math.ceil(burst * 1000 / rate) + 60000
end
redis.call('PEXPIRE', lk, ttl)
if s == t then
  local c = redis.call('HMGET', sk, 'd', 's', 'c', 'a')
  return {limited, t, notify, c[1] or '', c[2] or '0', c[3] or '0', c[4] or '0'}
end
if s > t then
  return {-1}
end
return {4, t, notify, limited, s}
`)

// finishScript ends a turn that ran.
//
//	KEYS     lock hash, message key, session hash
//	ARGV[1]  ticket;  ARGV[2] "1" when there is a message id
//	ARGV[3]  the reply;  ARGV[4] time to live of the done mark in ms
//	ARGV[5]  "1" to save the session: ARGV[6] data, [7] seq, [8] cand, [9] app
//	ARGV[10] session time to live in ms;  ARGV[11] claim window in ms
//	ARGV[12] the caller's owner id
var finishScript = goredis.NewScript(turnLib + `
local lk, mk, sk = KEYS[1], KEYS[2], KEYS[3]
if ARGV[5] == '1' then
  local cur = tonumber(redis.call('HGET', sk, 's') or '0')
  if tonumber(ARGV[7]) >= cur then
    redis.call('HSET', sk, 'd', ARGV[6], 's', ARGV[7], 'c', ARGV[8], 'a', ARGV[9])
  end
end
redis.call('PEXPIRE', sk, ARGV[10])
if ARGV[2] == '1' then
  redis.call('SET', mk, 'd' .. ARGV[3], 'PX', ARGV[4])
end
return release(lk, ARGV[1], tonumber(ARGV[11]), ARGV[12])
`)

// abortScript ends a turn that failed or a wait given up: the message id is
// released (when it is still this ticket's) and the turn passed on.
//
//	KEYS     lock hash, message key
//	ARGV[1]  ticket;  ARGV[2] "1" when there is a message id
//	ARGV[3]  claim window in ms;  ARGV[4] the caller's owner id
var abortScript = goredis.NewScript(turnLib + `
local lk, mk = KEYS[1], KEYS[2]
if ARGV[2] == '1' then
  local m = redis.call('GET', mk)
  if m and string.sub(m, 1, 1) == 'f' then
    local sep = string.find(m, '|', 2, true)
    if tonumber(string.sub(m, 2, sep - 1)) == tonumber(ARGV[1]) then
      redis.call('DEL', mk)
    end
  end
end
return release(lk, ARGV[1], tonumber(ARGV[3]), ARGV[4])
`)

// renewScript extends the leases of held tickets (the heartbeat calls it
// with one key, as keys of several candidates may be in several slots).
//
//	KEYS     lock hashes
//	ARGV     their tickets, then the lease in ms
//	returns  for each, 1 if the ticket still holds its lock, 0 otherwise
var renewScript = goredis.NewScript(turnLib + `
local lease = tonumber(ARGV[#ARGV])
local at = now()
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('HGET', k, 'held') == ARGV[i] and redis.call('HGET', k, 'serving') == ARGV[i] then
    redis.call('HSET', k, 'deadline', at + lease)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`)

// lockIdleTTL is how long an unused lock hash stays; it only has to outlive
// the longest wait.
const lockIdleTTL = time.Hour

// inFlightTTL is how long an in-flight mark outlives a crashed turn; a live
// one is replaced by the done mark or deleted long before.
const inFlightTTL = time.Hour

// Begin claims req.MsgID, takes a token from the identity's bucket, waits
// for the identity's turn in arrival order (across processes) and returns
// the cached session. A caller whose ctx ends stops waiting, gives up its
// place and its claim and gets ctx's error. With BeginRun or BeginLimited
// the caller must call Finish or Abort.
func (s *Store) Begin(ctx context.Context, req store.BeginRequest) (store.Begun, error) {
	k := s.turnKeys(req.Identity, req.MsgID)
	hasMsg := "0"
	if req.MsgID != "" {
		hasMsg = "1"
	}
	var (
		ticket          int64
		limited, notify bool
	)
	keys := []string{k.lock, k.msg, k.session}
	for {
		res, err := beginScript.Run(ctx, s.turns, keys, ticket, s.args.owner, s.args.leaseMs, s.args.windowMs,
			hasMsg, req.Rate, req.Burst, s.args.lockTTLMs, s.args.inFlightTTLMs).Slice()
		if err != nil {
			if ticket != 0 {
				s.abort(k, ticket, hasMsg)
			}
			return store.Begun{}, fmt.Errorf("begin turn: %w", translate(err))
		}
		code, _ := res[0].(int64)
		switch code {
		case 0, 1:
			b := store.Begun{State: store.BeginRun, Token: res[1].(int64), Notify: notify || asInt(res[2]) == 1}
			if code == 1 || limited {
				b.State = store.BeginLimited
			}
			if data, _ := res[3].(string); data != "" {
				b.Cached = store.Cached{Data: []byte(data), Seq: asInt(res[4]), CandidateID: asInt(res[5]), ApplicationID: asInt(res[6])}
			}
			s.hb.add(k.lock, b.Token)
			return b, nil
		case 2:
			reply, _ := res[1].(string)
			return store.Begun{State: store.BeginDone, Reply: []byte(reply)}, nil
		case 3:
			return store.Begun{State: store.BeginBusy}, nil
		case -1:
			ticket = 0 // our turn passed while we were away: queue again
			continue
		case 4:
			ticket = res[1].(int64)
			notify = notify || asInt(res[2]) == 1
			limited = limited || asInt(res[3]) == 1
		default:
			return store.Begun{}, fmt.Errorf("begin turn: unexpected script result %v", res)
		}
		wait := min(s.maxPoll, time.Millisecond*time.Duration(max(1, ticket-asInt(res[4]))))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.abort(k, ticket, hasMsg)
			return store.Begun{}, fmt.Errorf("begin turn: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

// Finish saves f.Session (unless the cache holds a later one), marks the
// message done with f.Reply and passes the identity's turn on.
func (s *Store) Finish(ctx context.Context, req store.BeginRequest, b store.Begun, f store.Finish) error {
	k := s.turnKeys(req.Identity, req.MsgID)
	s.hb.remove(k.lock, b.Token)
	hasMsg, hasSession := "0", "0"
	if req.MsgID != "" {
		hasMsg = "1"
	}
	var data []byte
	var seq, cand, app int64
	if f.Session != nil {
		hasSession = "1"
		data, seq, cand, app = f.Session.Data, f.Session.Seq, f.Session.CandidateID, f.Session.ApplicationID
	}
	err := finishScript.Run(ctx, s.turns, []string{k.lock, k.msg, k.session}, b.Token, hasMsg, f.Reply, s.args.doneTTLMs,
		hasSession, data, seq, cand, app, s.args.sessionTTLMs, s.args.windowMs, s.args.owner).Err()
	if err != nil {
		return fmt.Errorf("finish turn: %w", translate(err))
	}
	return nil
}

// Abort releases the message id (a redelivery runs the turn) and passes
// the identity's turn on. It runs even when ctx has ended.
func (s *Store) Abort(_ context.Context, req store.BeginRequest, b store.Begun) error {
	k := s.turnKeys(req.Identity, req.MsgID)
	hasMsg := "0"
	if req.MsgID != "" {
		hasMsg = "1"
	}
	return s.abort(k, b.Token, hasMsg)
}

func (s *Store) abort(k turnKeys, ticket int64, hasMsg string) error {
	s.hb.remove(k.lock, ticket)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := abortScript.Run(ctx, s.turns, []string{k.lock, k.msg}, ticket, hasMsg, s.claimWindow.Milliseconds(), s.owner).Err(); err != nil {
		return fmt.Errorf("abort turn: %w", translate(err))
	}
	return nil
}

// LockUser waits until it is id's turn and takes it, as Begin does without
// a message: callers are served in the order they called, across
// processes. unlock passes the turn on; calling it more than once is
// harmless. A caller whose ctx ends stops waiting, gives up its place and
// gets ctx's error.
func (s *Store) LockUser(ctx context.Context, id store.Identity) (func(), error) {
	req := store.BeginRequest{Identity: id}
	b, err := s.Begin(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("lock user: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() { _ = s.Abort(context.Background(), req, b) })
	}, nil
}

// Waiters returns how many callers are waiting for id's turn (tickets after
// the one being served).
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

// CachedSession returns the session cached for id, or store.ErrNotFound
// (tests and tools; turns get it from Begin).
func (s *Store) CachedSession(ctx context.Context, id store.Identity) (store.Cached, error) {
	v, err := s.rdb.HMGet(ctx, s.sessionKey(id), "d", "s", "c", "a").Result()
	if err != nil {
		return store.Cached{}, fmt.Errorf("cached session: %w", translate(err))
	}
	data, _ := v[0].(string)
	if data == "" {
		return store.Cached{}, fmt.Errorf("cached session: %w", store.ErrNotFound)
	}
	return store.Cached{Data: []byte(data), Seq: asInt(v[1]), CandidateID: asInt(v[2]), ApplicationID: asInt(v[3])}, nil
}

func asInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// heartbeat renews the leases of the tickets this process holds: one
// goroutine per Store, running only while something is held, renewing every
// lease in one pipelined round trip every quarter lease.
type heartbeat struct {
	s       *Store
	mu      sync.Mutex
	held    map[heldKey]struct{}
	running bool
}

type heldKey struct {
	lock   string
	ticket int64
}

func (h *heartbeat) add(lock string, ticket int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[heldKey]struct{}{}
	}
	h.held[heldKey{lock, ticket}] = struct{}{}
	if !h.running {
		h.running = true
		go h.run()
	}
}

func (h *heartbeat) remove(lock string, ticket int64) {
	h.mu.Lock()
	delete(h.held, heldKey{lock, ticket})
	h.mu.Unlock()
}

// run renews until nothing is held.
func (h *heartbeat) run() {
	tick := time.NewTicker(h.s.lease / 4)
	defer tick.Stop()
	var keys []string
	var args []any
	for range tick.C {
		h.mu.Lock()
		if len(h.held) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		keys, args = keys[:0], args[:0]
		for k := range h.held {
			keys = append(keys, k.lock)
			args = append(args, k.ticket)
		}
		h.mu.Unlock()
		h.renew(keys, args)
	}
}

// renew runs renewScript for each held lock (each its own slot), in one
// pipeline, and forgets the tickets that lost their lock.
func (h *heartbeat) renew(keys []string, tickets []any) {
	ctx, cancel := context.WithTimeout(context.Background(), h.s.lease/2)
	defer cancel()
	lease := h.s.lease.Milliseconds()
	cmds := make([]*goredis.Cmd, len(keys))
	_, _ = h.s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = renewScript.EvalSha(ctx, p, []string{k}, tickets[i], lease)
		}
		return nil
	})
	var retry []int
	for i, c := range cmds {
		if errors.Is(c.Err(), goredis.ErrClosed) {
			// The client is closed: nothing can be renewed any more.
			h.remove(keys[i], tickets[i].(int64))
			continue
		}
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			retry = append(retry, i)
			continue
		}
		if vals, err := c.Int64Slice(); err == nil && len(vals) == 1 && vals[0] == 0 {
			h.remove(keys[i], tickets[i].(int64))
		}
	}
	for _, i := range retry {
		if vals, err := renewScript.Run(ctx, h.s.rdb, []string{keys[i]}, tickets[i], lease).Int64Slice(); err == nil && len(vals) == 1 && vals[0] == 0 {
			h.remove(keys[i], tickets[i].(int64))
		}
	}
}
