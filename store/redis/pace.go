package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// paceKey is a send-rate bucket (a GCRA): the theoretical arrival time of
// the next send, in microseconds of the Redis server's clock.
func (s *Store) paceKey(key string) string {
	return s.prefix + "pace:{" + key + "}"
}

// takeScript grants up to n sends of a GCRA bucket.
//
//	KEYS[1]  the bucket (paceKey): the next send's theoretical arrival
//	         time (µs)
//	ARGV[1]  interval between sends (µs)
//	ARGV[2]  tolerance: (burst - 1) × interval (µs)
//	ARGV[3]  n: sends wanted
//	returns  {granted, wait µs}: wait is set when nothing was granted
//
// Time is the Redis server's, so every process shares one clock.
var takeScript = goredis.NewScript(`
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local room = now + tolerance - tat
if room < 0 then
  return {0, math.ceil(-room)}
end
local granted = math.min(n, math.floor(room / interval) + 1)
tat = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return {granted, 0}
`)

// holdScript keeps a GCRA bucket from granting anything for a while.
//
//	KEYS[1]  the bucket (paceKey)
//	ARGV[1]  how long (µs), tolerance included
//	returns  1
var holdScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < until_ then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.ceil((until_ - now) / 1000) + 1000)
end
return 1
`)

// TakeRate grants up to n sends of the rate bucket key, which allows one
// send every interval with bursts of burst; it returns how many it granted
// and, when none, how long until the next. Every process on the same Redis
// shares the bucket.
func (s *Store) TakeRate(ctx context.Context, key string, interval time.Duration, burst, n int) (int, time.Duration, error) {
	if interval <= 0 || burst < 1 || n < 1 {
		return 0, 0, fmt.Errorf("rate %s: interval %s, burst %d and n %d must be positive", key, interval, burst, n)
	}
	us := interval.Microseconds()
	res, err := takeScript.Run(ctx, s.rdb, []string{s.paceKey(key)}, us, int64(burst-1)*us, n).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("rate %s: %w", key, translate(err))
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("rate %s: unexpected script result %v", key, res)
	}
	return int(res[0]), time.Duration(res[1]) * time.Microsecond, nil
}

// HoldRate grants no send of the rate bucket key for d (a platform's
// retry_after); then one, and the rate again.
func (s *Store) HoldRate(ctx context.Context, key string, interval time.Duration, burst int, d time.Duration) error {
	tolerance := time.Duration(burst-1) * interval
	if err := holdScript.Run(ctx, s.rdb, []string{s.paceKey(key)}, (d + tolerance).Microseconds()).Err(); err != nil {
		return fmt.Errorf("rate %s hold: %w", key, translate(err))
	}
	return nil
}
