package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"regbot/dialogs"
	"regbot/store"
)

func TestMemoryHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	texts := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprintf("%d:%s", e.ID, e.Text))
		}
		return strings.Join(s, " ")
	}

	t.Run("keeps the last entries per visitor", func(t *testing.T) {
		t.Parallel()
		h := NewMemoryHistory(3, 10, 1<<20)
		for i := range 5 {
			h.Append(ctx, "a", []Entry{{From: FromUser, Text: fmt.Sprint("m", i)}})
		}
		got, _ := h.Recent(ctx, "a")
		if texts(got) != "3:m2 4:m3 5:m4" {
			t.Errorf("recent = %s", texts(got))
		}
		if e, err := h.Entry(ctx, "a", 4); err != nil || e.Text != "m3" {
			t.Errorf("entry 4 = %+v %v", e, err)
		}
		if _, err := h.Entry(ctx, "a", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("dropped entry: %v", err)
		}
		if _, err := h.Entry(ctx, "b", 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown visitor: %v", err)
		}
		if got, _ := h.Recent(ctx, "nobody"); got == nil || len(got) != 0 {
			t.Errorf("unknown visitor recent = %#v", got)
		}
	})

	t.Run("drops the least recently active visitor", func(t *testing.T) {
		t.Parallel()
		h := NewMemoryHistory(10, 2, 1<<20)
		h.Append(ctx, "a", []Entry{{Text: "a1"}})
		h.Append(ctx, "b", []Entry{{Text: "b1"}})
		h.Recent(ctx, "a") // a is now more recent than b
		h.Append(ctx, "c", []Entry{{Text: "c1"}})
		if got, _ := h.Recent(ctx, "b"); len(got) != 0 {
			t.Errorf("b kept: %s", texts(got))
		}
		if got, _ := h.Recent(ctx, "a"); texts(got) != "1:a1" {
			t.Errorf("a = %s", texts(got))
		}
	})

	t.Run("bounds the bytes held", func(t *testing.T) {
		t.Parallel()
		h := NewMemoryHistory(100, 100, 300<<10)
		img := &dialogs.OutImage{Name: "qr.png", Data: make([]byte, 100<<10)}
		for i := range 10 {
			h.Append(ctx, fmt.Sprint("v", i), []Entry{{From: FromBot, Image: img}})
		}
		users, bytes := h.usage()
		if bytes > 300<<10 || users != 2 {
			t.Errorf("holding %d visitors, %d bytes", users, bytes)
		}
		if got, _ := h.Recent(ctx, "v9"); len(got) != 1 {
			t.Error("latest visitor dropped")
		}
	})
}
