package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

func TestHistoryKeepsTheLastItemsNumbered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := storetest.RedisPrefix(t)
	s, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	id := store.Identity{Channel: "web", UserID: "v1"}
	if items, err := s.History(ctx, id); err != nil || len(items) != 0 {
		t.Fatalf("empty history: %v %v", items, err)
	}
	first, err := s.AppendHistory(ctx, id, [][]byte{[]byte(`{"t":"a"}`), []byte(`{"t":"b c"}`)}, 3, time.Hour)
	if err != nil || first != 1 {
		t.Fatalf("first append: %d %v", first, err)
	}
	if first, err = s.AppendHistory(ctx, id, [][]byte{[]byte(`{"t":"d"}`), []byte(`{"t":"e"}`)}, 3, time.Hour); err != nil || first != 3 {
		t.Fatalf("second append: %d %v", first, err)
	}
	items, err := s.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, it := range items {
		got += fmt.Sprintf("%d %s;", it.ID, it.Data)
	}
	if len(items) != 3 || got != `2 {"t":"b c"};3 {"t":"d"};4 {"t":"e"};` {
		t.Fatalf("history %d items: %s", len(items), got)
	}

	// Concurrent appends keep numbers in list order.
	other := store.Identity{Channel: "web", UserID: "v2"}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := s.AppendHistory(ctx, other, [][]byte{[]byte(fmt.Sprint(i)), []byte(fmt.Sprint(i))}, 100, time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	items, err = s.History(ctx, other)
	if err != nil || len(items) != 40 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	for i, it := range items {
		if it.ID != int64(i+1) {
			t.Fatalf("item %d has number %d: numbers out of list order", i, it.ID)
		}
	}
	if ttl := rdb.PTTL(ctx, prefix+"history:{web:v1}").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("history ttl %v, want ≤ 1h", ttl)
	}
}
