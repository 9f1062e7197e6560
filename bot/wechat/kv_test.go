package wechat

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKV runs the same checks on the Redis and the in-memory store.
func TestKV(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"redis", "memory"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var store kv
			prefix := "k:"
			if name == "redis" {
				rdb, p := testRedis(t)
				store, prefix = &redisKV{rdb: rdb}, p
			} else {
				store = newMemoryKV(time.Now)
			}
			key := prefix + "a"

			if store.Get(key) != nil || store.IsExist(key) {
				t.Fatal("absent key found")
			}
			if err := store.Set(key, "v1", time.Minute); err != nil {
				t.Fatal(err)
			}
			if got := store.Get(key); got != "v1" || !store.IsExist(key) {
				t.Fatalf("Get = %v", got)
			}
			if err := store.deleteIf(ctx, key, "other"); err != nil || store.Get(key) != "v1" {
				t.Fatalf("deleteIf with another value deleted (%v)", err)
			}
			if err := store.deleteIf(ctx, key, "v1"); err != nil || store.IsExist(key) {
				t.Fatalf("deleteIf with the value kept the key (%v)", err)
			}

			// setNX: exactly one of many concurrent callers wins.
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					ok, err := store.setNX(ctx, prefix+"nx", "x", time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Errorf("%d setNX winners, want 1", wins.Load())
			}

			if err := store.Set(prefix+"short", "v", 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(120 * time.Millisecond)
			if s, err := store.getString(ctx, prefix+"short"); err != nil || s != "" {
				t.Errorf("expired key still %q (%v)", s, err)
			}
			if err := store.Delete(prefix + "nx"); err != nil || store.IsExist(prefix+"nx") {
				t.Errorf("Delete kept the key (%v)", err)
			}
		})
	}
}
