package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// BenchmarkTurnScripts runs the common turn on the real Redis: one message
// of a candidate with nobody else in line and no rate limit hit, Begin then
// Finish with a session and a reply, over many candidates whose lock,
// bucket and session already exist; serial, one turn after another, and
// parallel, 32 at once (each on candidates of its own), as a loaded server
// sends them. Besides the client's time it reports what the turn costs
// Redis:
//
//   - redis-µs/turn: the Redis process's CPU (INFO cpu, user + sys) over
//     the loop, divided by the turns: the scripts and the round trips;
//   - script-µs/turn: the time Redis spent running the two scripts
//     (INFO commandstats, EVALSHA's usec), without reading the requests
//     and writing the replies;
//   - calls/turn: the commands the scripts ran (INFO commandstats: every
//     command but EVALSHA/EVAL and INFO);
//   - round-trips/turn: what the client sent (a command or a pipeline):
//     2 serial; in parallel fewer, as the autopipeliner sends the scripts
//     of turns running at once together.
//
// They are read from the whole server: anything else that uses the same
// Redis meanwhile is counted too. For quiet figures point
// REGBOT_TEST_REDIS_URL at a Redis of the benchmark's own.
func BenchmarkTurnScripts(b *testing.B) {
	rdb, prefix := storetest.RedisPrefix(b)
	var rt storetest.RoundTrips
	rdb.AddHook(rt.Hook())
	s, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	const (
		candidates = 1024
		parallel   = 32
	)
	reqs := make([]store.BeginRequest, candidates)
	for i := range reqs {
		// The default limit is 1/s with a burst of 30: a higher rate keeps
		// a long run from hitting it, which would not change the calls.
		reqs[i] = store.BeginRequest{Identity: store.Identity{Channel: "wechat", UserID: fmt.Sprintf("o-bench-%04d", i)}, Rate: 1000, Burst: 30}
	}
	// A mid-dialog session is about 360 bytes (docs/turns.md).
	data := bytes.Repeat([]byte{'s'}, 360)
	reply := bytes.Repeat([]byte{'r'}, 120)
	var msgs atomic.Int64
	turn := func(ctx context.Context, req store.BeginRequest) error {
		n := msgs.Add(1)
		req.MsgID = strconv.FormatInt(n, 10)
		begun, err := s.Begin(ctx, req)
		if err != nil || begun.State != store.BeginRun {
			return fmt.Errorf("begin: %v, %v; want BeginRun", begun.State, err)
		}
		session := store.Cached{Data: data, Seq: n, CandidateID: 7, ApplicationID: 9}
		return s.Finish(ctx, req, begun, store.Finish{Session: &session, Reply: reply})
	}
	for _, req := range reqs {
		// The candidate's lock, bucket and session exist.
		if err := turn(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
	report := func(b *testing.B, before usage, trips storetest.Counts) {
		b.ReportMetric(float64(rt.Read().Sub(trips).Redis)/float64(b.N), "round-trips/turn")
		d := redisUsage(b, rdb).sub(before)
		b.ReportMetric(d.cpuMicros/float64(b.N), "redis-µs/turn")
		b.ReportMetric(float64(d.scriptMicros)/float64(b.N), "script-µs/turn")
		b.ReportMetric(float64(d.calls)/float64(b.N), "calls/turn")
	}
	b.Run("serial", func(b *testing.B) {
		before, trips := redisUsage(b, rdb), rt.Read()
		b.ResetTimer()
		for i := range b.N {
			if err := turn(b.Context(), reqs[i%candidates]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, before, trips)
	})
	b.Run("parallel", func(b *testing.B) {
		var workers atomic.Int64
		b.SetParallelism(max(1, parallel/runtime.GOMAXPROCS(0)))
		before, trips := redisUsage(b, rdb), rt.Read()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			// Each worker has candidates of its own: nobody waits.
			w := int(workers.Add(1)-1) % parallel
			mine := reqs[w*candidates/parallel : (w+1)*candidates/parallel]
			for i := 0; pb.Next(); i++ {
				if err := turn(b.Context(), mine[i%len(mine)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		report(b, before, trips)
	})
}

// usage is what Redis reports of its work so far: CPU time in µs, the time
// spent in scripts (EVALSHA) in µs and the commands run, scripts' commands
// included, scripts and INFO left out.
type usage struct {
	cpuMicros    float64
	scriptMicros int64
	calls        int64
}

func (u usage) sub(o usage) usage {
	return usage{cpuMicros: u.cpuMicros - o.cpuMicros, scriptMicros: u.scriptMicros - o.scriptMicros, calls: u.calls - o.calls}
}

func redisUsage(b *testing.B, rdb goredis.UniversalClient) usage {
	b.Helper()
	info, err := rdb.Info(b.Context(), "cpu", "commandstats").Result()
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
			// calls=N,usec=N,usec_per_call=…
			calls, rest, _ := strings.Cut(strings.TrimPrefix(value, "calls="), ",")
			usec, _, _ := strings.Cut(strings.TrimPrefix(rest, "usec="), ",")
			n, err1 := strconv.ParseInt(calls, 10, 64)
			us, err2 := strconv.ParseInt(usec, 10, 64)
			if err1 != nil || err2 != nil {
				b.Fatalf("INFO commandstats %s: unexpected format", line)
			}
			switch strings.TrimPrefix(name, "cmdstat_") {
			case "evalsha":
				u.scriptMicros += us
			case "eval", "info":
			default:
				u.calls += n
			}
		}
	}
	return u
}
