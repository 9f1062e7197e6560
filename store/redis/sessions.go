package redis

import (
	"context"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
)

// saveSessionScript stores a session if its revision is the expected one.
//
//	KEYS[1]  the session hash (sessionKey)
//	ARGV[1]  expected revision (0: no session stored)
//	ARGV[2]  session bytes
//	ARGV[3]  time to live in ms
//	returns  the new revision, or -1 when the stored revision differs
var saveSessionScript = goredis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if cur ~= tonumber(ARGV[1]) then
  return -1
end
cur = cur + 1
redis.call('HSET', KEYS[1], 'rev', cur, 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return cur
`)

// LoadSession returns the session stored for id and its revision, or
// store.ErrNotFound.
func (s *Store) LoadSession(ctx context.Context, id store.Identity) ([]byte, int64, error) {
	vals, err := s.rdb.HMGet(ctx, s.sessionKey(id), "data", "rev").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("load session: %w", translate(err))
	}
	data, ok1 := vals[0].(string)
	revText, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return nil, 0, fmt.Errorf("load session: %w", store.ErrNotFound)
	}
	rev, err := strconv.ParseInt(revText, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("load session: revision %q: %w", revText, err)
	}
	return []byte(data), rev, nil
}

// SaveSession stores data if the stored revision is still rev (0: none
// stored) and returns the new revision, or store.ErrConflict. Each save
// restarts the session's time to live.
func (s *Store) SaveSession(ctx context.Context, id store.Identity, data []byte, rev int64) (int64, error) {
	next, err := saveSessionScript.Run(ctx, s.rdb, []string{s.sessionKey(id)}, rev, data, s.sessionTTL.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("save session: %w", translate(err))
	}
	if next < 0 {
		return 0, fmt.Errorf("save session: revision %d is stale: %w", rev, store.ErrConflict)
	}
	return next, nil
}
