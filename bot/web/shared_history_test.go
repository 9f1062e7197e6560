package web

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// TestSharedHistorySeenByEveryInstance: two Chats' histories on one Redis
// (two instances behind a load balancer) show the same conversation.
func TestSharedHistorySeenByEveryInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := storetest.RedisPrefix(t)
	st, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewSharedHistory(st, 3, time.Hour), NewSharedHistory(st, 3, time.Hour)
	img := []byte{0xff, 0xd8, 0xff, 1, 2, 3}
	kept, err := a.Append(ctx, "v1", []Entry{
		{From: FromUser, Text: "<b>你好</b>", At: time.Now()},
		{From: FromBot, Text: "您是否…？", Choices: []dialogs.Choice{{ID: "yes", Label: "是"}}, Ask: &dialogs.Ask{Slot: "work_history.more", Type: "bool"}},
	})
	if err != nil || kept[0].ID != 1 || kept[1].ID != 2 {
		t.Fatalf("append: %+v %v", kept, err)
	}
	if _, err := a.Append(ctx, "v1", []Entry{{From: FromBot, Text: "照片", Image: &dialogs.OutImage{Name: "一寸照片.jpg", Data: img}}, {From: FromUser, Upload: "a.jpg"}}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Recent(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != 2 || got[0].Choices[0].Label != "是" || got[0].Ask.Slot != "work_history.more" {
		t.Fatalf("the other instance sees %+v", got)
	}
	e, err := b.Entry(ctx, "v1", 3)
	if err != nil || e.Image == nil || !bytes.Equal(e.Image.Data, img) {
		t.Fatalf("entry 3: %+v %v", e, err)
	}
	if _, err := b.Entry(ctx, "v1", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an entry past the kept ones: %v, want store.ErrNotFound", err)
	}
	if got, _ := b.Recent(ctx, "someone-else"); len(got) != 0 {
		t.Fatalf("another visitor sees %+v", got)
	}
}
