// Package redis is the fast path of the store on Redis (go-redis v9): a
// turn's two scripts (Begin: claim the message id, check the candidate's
// rate limit, take the candidate's turn in arrival order and return the
// cached session; Finish: save the session, mark the message done with its
// reply and pass the turn on), a heartbeat that renews the leases this
// process holds, a token-bucket rate limiter and the web chat's history.
//
// It works on a single Redis, a Sentinel group or a Redis Cluster: every key
// of one candidate carries the same hash tag ({channel:user}), so each Lua
// script touches one slot. Every key is built by one function in keys.go.
// Nothing here is the record: PostgreSQL is (store/postgres); a flushed Redis
// costs a rebuild of sessions from the record, not data.
package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
)

// Defaults of the options.
const (
	DefaultPrefix      = "regbot:"
	DefaultSessionTTL  = 30 * 24 * time.Hour
	DefaultLockLease   = store.DefaultLease
	DefaultClaimWindow = 1500 * time.Millisecond
)

// Store is the Redis side of the store. It is safe for concurrent use.
type Store struct {
	rdb goredis.UniversalClient
	// turns runs the turn's scripts (Begin, Finish, Abort): go-redis's
	// autopipeliner unless WithAutoPipeline(false), else rdb.
	turns        goredis.Scripter
	autoPipeline bool
	prefix       string
	sessionTTL   time.Duration
	lease        time.Duration
	claimWindow  time.Duration
	doneTTL      time.Duration
	maxPoll      time.Duration
	// owner is "<instance>/<run>": what this process's tickets and claims
	// carry.
	owner string
	hb    heartbeat
	// args are the scripts' arguments that never change, boxed once (a
	// boxed string or a number over 255 is an allocation per call).
	args struct {
		owner, leaseMs, windowMs, doneTTLMs, sessionTTLMs, lockTTLMs, inFlightTTLMs any
	}
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the prefix of every key (default "regbot:"), so that
// several deployments, or tests, share one Redis without meeting.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// WithSessionTTL sets how long an untouched session is kept (default 30
// days); an expired session is rebuilt from the record.
func WithSessionTTL(d time.Duration) Option { return func(s *Store) { s.sessionTTL = d } }

// WithLockLease sets how long a turn's holder that stopped renewing (a
// crashed process) keeps a candidate's turn before the next waiter takes it
// (default 2s). The process's heartbeat renews its leases every quarter of
// it.
func WithLockLease(d time.Duration) Option { return func(s *Store) { s.lease = d } }

// WithClaimWindow sets how long the waiter whose turn has come may take to
// claim it before it is skipped as gone (default 1.5s).
func WithClaimWindow(d time.Duration) Option { return func(s *Store) { s.claimWindow = d } }

// WithDoneTTL sets how long a handled message id and its reply are kept
// (default 24h); the record keeps them for good.
func WithDoneTTL(d time.Duration) Option { return func(s *Store) { s.doneTTL = d } }

// WithInstance names this process (default: host name, process id and a
// number unique to the Store, which no later run shares). A
// name stable across restarts (host and listen address, or configured) lets
// a restarted process take over at once the turns its previous run held;
// two processes running at once must never share one.
func WithInstance(name string) Option { return func(s *Store) { s.owner = name } }

// WithAutoPipeline sets whether the turn's scripts go through go-redis's
// autopipeliner (default true). It sends the scripts of turns running at
// the same time to Redis as one pipeline, one write and one read, instead
// of a round trip each: under load most of what a round trip costs Redis
// and this process is the system calls, not the script (docs/turns.md).
// A lone turn is sent at once, as without it. The autopipeliner is
// go-redis's own (marked experimental there); false runs every script on
// its own round trip.
func WithAutoPipeline(on bool) Option { return func(s *Store) { s.autoPipeline = on } }

// stores numbers the Stores of this process that have no instance name.
var stores atomic.Int64

// New returns a Store on rdb. It does not touch the network.
func New(rdb goredis.UniversalClient, opts ...Option) (*Store, error) {
	s := &Store{
		rdb:         rdb,
		prefix:      DefaultPrefix,
		sessionTTL:  DefaultSessionTTL,
		lease:       DefaultLockLease,
		claimWindow: DefaultClaimWindow,
		doneTTL:     store.DefaultDoneTTL,
		maxPoll:     20 * time.Millisecond,

		autoPipeline: true,
	}
	for _, o := range opts {
		o(s)
	}
	if s.owner == "" {
		// Unique to this Store: no other Store takes it for its own
		// earlier run.
		host, _ := os.Hostname()
		s.owner = fmt.Sprintf("%s:%d#%d", host, os.Getpid(), stores.Add(1))
	}
	// The run part tells this run from the instance's earlier ones.
	s.owner += "/" + rand.Text()[:8]
	s.hb.s = s
	s.args.owner = s.owner
	s.args.leaseMs, s.args.windowMs = s.lease.Milliseconds(), s.claimWindow.Milliseconds()
	s.args.doneTTLMs, s.args.sessionTTLMs = s.doneTTL.Milliseconds(), s.sessionTTL.Milliseconds()
	s.args.lockTTLMs, s.args.inFlightTTLMs = lockIdleTTL.Milliseconds(), inFlightTTL.Milliseconds()
	var errs []error
	if strings.ContainsAny(s.prefix, "{}") {
		errs = append(errs, fmt.Errorf("key prefix %q must not contain { or } (they would change the Cluster hash slot)", s.prefix))
	}
	if s.sessionTTL <= 0 || s.doneTTL <= 0 || s.lease < 10*time.Millisecond || s.claimWindow < 10*time.Millisecond {
		errs = append(errs, errors.New("session ttl, done ttl, lock lease and claim window must be positive (lease and window at least 10ms)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	s.turns = rdb
	if s.autoPipeline {
		// One per client, shared by every Store on it; closing the client
		// stops it.
		ap, err := rdb.AutoPipeline()
		if err != nil {
			return nil, fmt.Errorf("redis store: autopipeline: %w", err)
		}
		s.turns = ap
	}
	return s, nil
}

// NewClient returns a client for rawURL without connecting:
//
//	redis://[user:password@]host:port[/db][?options]     one server
//	rediss://…                                           the same over TLS
//	redis://host:port?master_name=NAME[&addr=host:port]  Sentinel
//	redis+cluster://host:port[?addr=host:port…]          Redis Cluster
//
// The query options are go-redis's (dial_timeout, pool_size, …). A
// connection Redis refuses is dialled once per try of a command, not five
// times 100 ms apart as go-redis does by default (dialer_retries, in
// Cluster and Sentinel URLs): when Redis is down, the Router runs turns on
// the record alone and probes Redis every second (docs/turns.md), so a turn
// should learn it in milliseconds, not after seconds of dialling.
func NewClient(rawURL string) (goredis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", redactURLError(err))
	}
	switch {
	case strings.HasSuffix(u.Scheme, "+cluster"):
		u.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
		opts, err := goredis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis cluster url: %w", err)
		}
		opts.DialerRetries = cmp.Or(opts.DialerRetries, dialerRetries)
		return goredis.NewClusterClient(opts), nil
	case u.Query().Has("master_name"):
		opts, err := goredis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis sentinel url: %w", err)
		}
		opts.DialerRetries = cmp.Or(opts.DialerRetries, dialerRetries)
		return goredis.NewFailoverClient(opts), nil
	default:
		opts, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		opts.DialerRetries = dialerRetries
		return goredis.NewClient(opts), nil
	}
}

// dialerRetries is how many times a command's try dials Redis (NewClient).
const dialerRetries = 1

// redactURLError drops the URL (which may hold a password) from a parse
// error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// translate maps go-redis errors to the store's.
func translate(err error) error {
	if errors.Is(err, goredis.Nil) {
		return store.ErrNotFound
	}
	return err
}
