package redis_test

import (
	"fmt"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// TestConcurrentTurnsShareRoundTrips: the scripts of turns that run at the
// same time go to Redis together (WithAutoPipeline, the default): many
// turns at once take fewer round trips than they run scripts, on one Redis
// and on the Cluster, and every turn still begins and finishes as alone.
// Without it, each script is a round trip of its own.
func TestConcurrentTurnsShareRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster bool
		on      bool
	}{
		{"redis", false, true},
		{"cluster", true, true},
		{"redis without", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rdb goredis.UniversalClient
			var prefix string
			if tc.cluster {
				rdb, prefix = storetest.RedisClusterPrefix(t)
			} else {
				rdb, prefix = storetest.RedisPrefix(t)
			}
			var rt storetest.RoundTrips
			rdb.AddHook(rt.Hook())
			s, err := redis.New(rdb, redis.WithPrefix(prefix), redis.WithAutoPipeline(tc.on))
			if err != nil {
				t.Fatal(err)
			}
			const workers, turns = 32, 20
			start := make(chan struct{})
			var wg sync.WaitGroup
			before := rt.Read()
			for w := range workers {
				wg.Go(func() {
					<-start
					for i := range turns {
						// Each worker's candidate of its own: nobody waits.
						req := store.BeginRequest{Identity: store.Identity{Channel: "test", UserID: fmt.Sprintf("ap-%d", w)}, MsgID: fmt.Sprint(i)}
						b, err := s.Begin(t.Context(), req)
						if err != nil || b.State != store.BeginRun {
							t.Errorf("worker %d turn %d: begin %v, %v; want BeginRun", w, i, b.State, err)
							return
						}
						data := fmt.Appendf(nil, "session %d", i)
						if err := s.Finish(t.Context(), req, b, store.Finish{Reply: []byte("r"), Session: &store.Cached{Data: data, Seq: int64(i + 1)}}); err != nil {
							t.Errorf("worker %d turn %d: finish: %v", w, i, err)
							return
						}
					}
				})
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				return
			}
			scripts := int64(2 * workers * turns)
			trips := rt.Read().Sub(before).Redis
			t.Logf("%d scripts in %d round trips", scripts, trips)
			if tc.on && trips > scripts/4 {
				t.Errorf("%d scripts took %d round trips; want them to share round trips (at most %d)", scripts, trips, scripts/4)
			}
			if !tc.on && trips < scripts {
				t.Errorf("%d scripts took %d round trips without the autopipeliner; want one each", scripts, trips)
			}
			// Every turn was recorded as if alone: the message is done and
			// the session is the last one saved.
			for w := range workers {
				id := store.Identity{Channel: "test", UserID: fmt.Sprintf("ap-%d", w)}
				c, err := s.CachedSession(t.Context(), id)
				if err != nil || string(c.Data) != fmt.Sprintf("session %d", turns-1) {
					t.Errorf("worker %d: cached session %q, %v; want the last turn's", w, c.Data, err)
				}
				b, err := s.Begin(t.Context(), store.BeginRequest{Identity: id, MsgID: "0"})
				if err != nil || b.State != store.BeginDone {
					t.Errorf("worker %d: message 0 again: %v, %v; want BeginDone", w, b.State, err)
				}
			}
		})
	}
}
