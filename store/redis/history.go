package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
)

// appendHistoryScript numbers and appends items atomically, so concurrent
// appends for one candidate keep their numbers in list order.
//
//	KEYS[1]  the history list
//	KEYS[2]  the history's sequence counter
//	ARGV[1]  how many items to keep
//	ARGV[2]  idle time to live in ms
//	ARGV[3…] the items
//	returns  the number of the first appended item; each is stored as
//	         "<number> <item>"
var appendHistoryScript = goredis.NewScript(`
local n = #ARGV - 2
local last = redis.call('INCRBY', KEYS[2], n)
local first = last - n + 1
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], tostring(first + i - 3) .. ' ' .. ARGV[i])
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return first
`)

// AppendHistory appends items (encoded by the caller) to id's recent
// history, keeps only the last keep items, and returns the number of the
// first appended one (numbers start at 1 per identity and are never reused).
// The history expires after idle without an append.
func (s *Store) AppendHistory(ctx context.Context, id store.Identity, items [][]byte, keep int, idle time.Duration) (int64, error) {
	if len(items) == 0 {
		return 0, nil
	}
	args := []any{keep, idle.Milliseconds()}
	for _, it := range items {
		args = append(args, it)
	}
	first, err := appendHistoryScript.Run(ctx, s.rdb, []string{s.historyKey(id), s.historySeqKey(id)}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("append history: %w", translate(err))
	}
	return first, nil
}

// History returns id's kept items, oldest first (none: empty).
func (s *Store) History(ctx context.Context, id store.Identity) ([]store.HistoryItem, error) {
	vals, err := s.rdb.LRange(ctx, s.historyKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("history: %w", translate(err))
	}
	out := make([]store.HistoryItem, 0, len(vals))
	for _, v := range vals {
		num, data, ok := bytes.Cut([]byte(v), []byte(" "))
		n, err := strconv.ParseInt(string(num), 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("history: malformed item %.20q", v)
		}
		out = append(out, store.HistoryItem{ID: n, Data: data})
	}
	return out, nil
}
