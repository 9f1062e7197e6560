package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// allowScript takes one token from a token bucket.
//
//	KEYS[1]  the bucket hash (rateKey): fields tokens, at (ms)
//	ARGV[1]  refill rate in tokens per second
//	ARGV[2]  burst: the bucket's size
//	returns  {1, 0} when a token was taken, {0, ms} with the wait until one
//	         is available otherwise
//
// Time is the Redis server's, so every process shares one clock.
var allowScript = goredis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
`)

// Allow takes one token from the bucket named key, which refills at rate
// tokens per second up to burst. It reports whether a token was taken and,
// if not, how long until one is available. Buckets are shared by every
// process on the same Redis.
func (s *Store) Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	if rate <= 0 || burst < 1 {
		return false, 0, fmt.Errorf("rate limit %s: rate %v and burst %d must be positive", key, rate, burst)
	}
	res, err := allowScript.Run(ctx, s.rdb, []string{s.rateKey(key)}, rate, burst).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, translate(err))
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit %s: unexpected script result %v", key, res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}
