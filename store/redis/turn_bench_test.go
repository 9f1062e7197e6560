package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// BenchmarkTurn runs the common turn on the real Redis: one message of a
// candidate with nobody else in line and no rate limit hit, Begin then
// Finish with a session and a reply, over many candidates whose lock,
// bucket and session already exist. Besides the client's time it reports
// what the turn costs Redis:
//
//   - redis-µs/turn: the Redis process's CPU (INFO cpu, user + sys) over
//     the loop, divided by the turns;
//   - calls/turn: the commands the scripts ran (INFO commandstats: every
//     command but EVALSHA/EVAL and INFO).
//
// Both are read from the whole server: anything else that uses the same
// Redis meanwhile is counted too. For quiet figures point
// REGBOT_TEST_REDIS_URL at a Redis of the benchmark's own.
func BenchmarkTurn(b *testing.B) {
	rdb, prefix := storetest.RedisPrefix(b)
	s, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	const candidates = 1024
	reqs := make([]store.BeginRequest, candidates)
	for i := range reqs {
		// The default limit is 1/s with a burst of 30: a higher rate keeps
		// a long run from hitting it, which would not change the calls.
		reqs[i] = store.BeginRequest{Identity: store.Identity{Channel: "wechat", UserID: fmt.Sprintf("o-bench-%04d", i)}, Rate: 1000, Burst: 30}
	}
	// A mid-dialog session is about 360 bytes (docs/turns.md).
	session := store.Cached{Data: bytes.Repeat([]byte{'s'}, 360), Seq: 1, CandidateID: 7, ApplicationID: 9}
	reply := bytes.Repeat([]byte{'r'}, 120)
	msg := 0
	turn := func(req store.BeginRequest) {
		msg++
		req.MsgID = strconv.Itoa(msg)
		begun, err := s.Begin(ctx, req)
		if err != nil || begun.State != store.BeginRun {
			b.Fatalf("begin: %v, %v; want BeginRun", begun.State, err)
		}
		session.Seq++
		if err := s.Finish(ctx, req, begun, store.Finish{Session: &session, Reply: reply}); err != nil {
			b.Fatal(err)
		}
	}
	for _, req := range reqs {
		turn(req) // the candidate's lock, bucket and session exist
	}
	before := redisUsage(b, ctx, rdb)
	b.ResetTimer()
	for i := range b.N {
		turn(reqs[i%candidates])
	}
	b.StopTimer()
	d := redisUsage(b, ctx, rdb).sub(before)
	b.ReportMetric(d.cpuMicros/float64(b.N), "redis-µs/turn")
	b.ReportMetric(float64(d.calls)/float64(b.N), "calls/turn")
}

// usage is what Redis reports of its work so far: CPU time in µs and the
// commands run, scripts' commands included, scripts and INFO left out.
type usage struct {
	cpuMicros float64
	calls     int64
}

func (u usage) sub(o usage) usage {
	return usage{cpuMicros: u.cpuMicros - o.cpuMicros, calls: u.calls - o.calls}
}

func redisUsage(b *testing.B, ctx context.Context, rdb goredis.UniversalClient) usage {
	b.Helper()
	info, err := rdb.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var u usage
	for line := range strings.Lines(info) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch {
		case name == "used_cpu_user" || name == "used_cpu_sys":
			secs, err := strconv.ParseFloat(value, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", line, err)
			}
			u.cpuMicros += secs * 1e6
		case strings.HasPrefix(name, "cmdstat_"):
			switch strings.TrimPrefix(name, "cmdstat_") {
			case "evalsha", "eval", "info":
				continue
			}
			calls, _, _ := strings.Cut(strings.TrimPrefix(value, "calls="), ",")
			n, err := strconv.ParseInt(calls, 10, 64)
			if err != nil {
				b.Fatalf("INFO commandstats %s: %v", line, err)
			}
			u.calls += n
		}
	}
	return u
}
