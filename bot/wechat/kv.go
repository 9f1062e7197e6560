package wechat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// kv is the state the adapter shares between instances: the access token,
// and the lock around fetching it. redisKV shares it
// through Redis; memoryKV keeps it in the process (embedded mode). Both
// satisfy silenceper's cache.Cache, which the SDK's config requires.
type kv interface {
	cache.ContextCache
	// setNX stores val under key for ttl if key is absent and reports
	// whether it did.
	setNX(ctx context.Context, key, val string, ttl time.Duration) (bool, error)
	// deleteIf deletes key if it still holds val.
	deleteIf(ctx context.Context, key, val string) error
	// getString returns the string under key, or "" when there is none.
	getString(ctx context.Context, key string) (string, error)
}

// kvTimeout bounds one call made through the context-free cache.Cache
// methods.
const kvTimeout = 3 * time.Second

// Keys. Every key the adapter writes is built here, under the deployment's
// prefix (Deps.KeyPrefix).

func tokenKey(prefix, appID string) string     { return prefix + "token:" + appID }
func tokenLockKey(prefix, appID string) string { return prefix + "token-lock:" + appID }

// redisKV is a cache.Cache over go-redis v9 (the SDK's own uses v8). It is
// safe for concurrent use, as the client is.
type redisKV struct {
	rdb redis.UniversalClient
}

var _ kv = (*redisKV)(nil)

func (r *redisKV) Get(key string) any {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	return r.GetContext(ctx, key)
}

func (r *redisKV) GetContext(ctx context.Context, key string) any {
	s, err := r.rdb.Get(ctx, key).Result()
	if err != nil {
		return nil
	}
	return s
}

func (r *redisKV) Set(key string, val any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	return r.SetContext(ctx, key, val, timeout)
}

func (r *redisKV) SetContext(ctx context.Context, key string, val any, timeout time.Duration) error {
	if err := r.rdb.Set(ctx, key, val, timeout).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

func (r *redisKV) IsExist(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	return r.IsExistContext(ctx, key)
}

func (r *redisKV) IsExistContext(ctx context.Context, key string) bool {
	n, err := r.rdb.Exists(ctx, key).Result()
	return err == nil && n > 0
}

func (r *redisKV) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	return r.DeleteContext(ctx, key)
}

func (r *redisKV) DeleteContext(ctx context.Context, key string) error {
	if err := r.rdb.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("redis del: %w", err)
	}
	return nil
}

func (r *redisKV) getString(ctx context.Context, key string) (string, error) {
	s, err := r.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redis get: %w", err)
	}
	return s, nil
}

func (r *redisKV) setNX(ctx context.Context, key, val string, ttl time.Duration) (bool, error) {
	err := r.rdb.SetArgs(ctx, key, val, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redis set nx: %w", err)
	}
	return true, nil
}

// deleteIfScript deletes a key only if it still holds the caller's value,
// so a lock is released, or a stale token dropped, only by whoever holds it.
//
//	KEYS[1]: the key
//	ARGV[1]: the expected value
//	returns: 1 if deleted, 0 otherwise
var deleteIfScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

func (r *redisKV) deleteIf(ctx context.Context, key, val string) error {
	if err := deleteIfScript.Run(ctx, r.rdb, []string{key}, val).Err(); err != nil {
		return fmt.Errorf("redis delete-if: %w", err)
	}
	return nil
}

// memoryKV is the embedded-mode kv: a map with expiry behind a mutex (the
// SDK's cache.NewMemory is not safe for concurrent use). Expired entries are
// dropped when read and swept when the map grows.
type memoryKV struct {
	mu      sync.Mutex
	entries map[string]memoryEntry
	now     func() time.Time
	// sweepAt is the size at which expired entries are next swept.
	sweepAt int
}

type memoryEntry struct {
	val     any
	expires time.Time // zero: never
}

var _ kv = (*memoryKV)(nil)

func newMemoryKV(now func() time.Time) *memoryKV {
	return &memoryKV{entries: map[string]memoryEntry{}, now: now, sweepAt: 1024}
}

// lookup returns the live entry under key; m.mu must be held.
func (m *memoryKV) lookup(key string) (memoryEntry, bool) {
	e, ok := m.entries[key]
	if !ok {
		return e, false
	}
	if !e.expires.IsZero() && !m.now().Before(e.expires) {
		delete(m.entries, key)
		return e, false
	}
	return e, true
}

// store sets key; m.mu must be held.
func (m *memoryKV) store(key string, val any, ttl time.Duration) {
	e := memoryEntry{val: val}
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
	}
	m.entries[key] = e
	if len(m.entries) >= m.sweepAt {
		now := m.now()
		for k, e := range m.entries {
			if !e.expires.IsZero() && !now.Before(e.expires) {
				delete(m.entries, k)
			}
		}
		m.sweepAt = max(1024, 2*len(m.entries))
	}
}

func (m *memoryKV) Get(key string) any { return m.GetContext(context.Background(), key) }

func (m *memoryKV) GetContext(_ context.Context, key string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.lookup(key)
	if !ok {
		return nil
	}
	return e.val
}

func (m *memoryKV) Set(key string, val any, timeout time.Duration) error {
	return m.SetContext(context.Background(), key, val, timeout)
}

func (m *memoryKV) SetContext(_ context.Context, key string, val any, timeout time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.store(key, val, timeout)
	return nil
}

func (m *memoryKV) IsExist(key string) bool { return m.IsExistContext(context.Background(), key) }

func (m *memoryKV) IsExistContext(_ context.Context, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.lookup(key)
	return ok
}

func (m *memoryKV) Delete(key string) error { return m.DeleteContext(context.Background(), key) }

func (m *memoryKV) DeleteContext(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}

func (m *memoryKV) getString(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.lookup(key)
	if !ok {
		return "", nil
	}
	s, _ := e.val.(string)
	return s, nil
}

func (m *memoryKV) setNX(_ context.Context, key, val string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.lookup(key); ok {
		return false, nil
	}
	m.store(key, val, ttl)
	return true, nil
}

func (m *memoryKV) deleteIf(_ context.Context, key, val string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.lookup(key); ok {
		if s, _ := e.val.(string); s == val {
			delete(m.entries, key)
		}
	}
	return nil
}
