// Package redis is the fast path of the store on Redis (go-redis v9): the
// session cursor with a revision for compare-and-set, de-duplication keys for
// platform retries, a per-user lock that serves one candidate's messages in
// arrival order across processes, and a token-bucket rate limiter.
//
// It works on a single Redis, a Sentinel group or a Redis Cluster: every key
// of one candidate carries the same hash tag ({channel:user}), so each Lua
// script touches one slot. Every key is built by one function in keys.go.
// Nothing here is the record: PostgreSQL is (store/postgres); a flushed Redis
// costs a rebuild of sessions from the record, not data.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
)

// Defaults of the options.
const (
	DefaultPrefix      = "regbot:"
	DefaultSessionTTL  = 30 * 24 * time.Hour
	DefaultLockLease   = 15 * time.Second
	DefaultClaimWindow = 5 * time.Second
)

// Store is the Redis side of the store. It is safe for concurrent use.
type Store struct {
	rdb         goredis.UniversalClient
	prefix      string
	sessionTTL  time.Duration
	lease       time.Duration
	claimWindow time.Duration
	maxPoll     time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the prefix of every key (default "regbot:"), so that
// several deployments, or tests, share one Redis without meeting.
func WithPrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// WithSessionTTL sets how long an untouched session is kept (default 30
// days); an expired session is rebuilt from the record.
func WithSessionTTL(d time.Duration) Option { return func(s *Store) { s.sessionTTL = d } }

// WithLockLease sets how long a lock holder that stopped renewing (a crashed
// process) keeps a candidate's lock before the next waiter takes it (default
// 15s). A live holder renews its lease every third of it.
func WithLockLease(d time.Duration) Option { return func(s *Store) { s.lease = d } }

// WithClaimWindow sets how long the waiter whose turn has come may take to
// claim the lock before it is skipped as gone (default 5s).
func WithClaimWindow(d time.Duration) Option { return func(s *Store) { s.claimWindow = d } }

// New returns a Store on rdb. It does not touch the network.
func New(rdb goredis.UniversalClient, opts ...Option) (*Store, error) {
	s := &Store{
		rdb:         rdb,
		prefix:      DefaultPrefix,
		sessionTTL:  DefaultSessionTTL,
		lease:       DefaultLockLease,
		claimWindow: DefaultClaimWindow,
		maxPoll:     20 * time.Millisecond,
	}
	for _, o := range opts {
		o(s)
	}
	var errs []error
	if strings.ContainsAny(s.prefix, "{}") {
		errs = append(errs, fmt.Errorf("key prefix %q must not contain { or } (they would change the Cluster hash slot)", s.prefix))
	}
	if s.sessionTTL <= 0 || s.lease < 10*time.Millisecond || s.claimWindow < 10*time.Millisecond {
		errs = append(errs, errors.New("session ttl, lock lease and claim window must be positive (lease and window at least 10ms)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
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
// The query options are go-redis's (dial_timeout, pool_size, …).
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
		return goredis.NewClusterClient(opts), nil
	case u.Query().Has("master_name"):
		opts, err := goredis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis sentinel url: %w", err)
		}
		return goredis.NewFailoverClient(opts), nil
	default:
		opts, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return goredis.NewClient(opts), nil
	}
}

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
