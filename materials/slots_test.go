package materials

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
)

func TestDecodeSlotsBoundConcurrentWork(t *testing.T) {
	t.Parallel()
	slots := NewDecodeSlots(1)
	in := NewInspector(planTexts(), WithDecodeSlots(slots))
	fx := NewFixer(planTexts(), WithDecodeSlots(slots))
	m := &dialogs.Material{Key: "photo", Checks: dialogs.MaterialChecks{Formats: []string{"jpeg"}, Ratio: "5:7", Fixable: true}}

	if err := slots.acquire(context.Background()); err != nil { // another upload holds the only slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	insp := in.Inspect(ctx, m, []byte("not an image"), dialogs.Facts{})
	if len(insp.Problems) != 1 || !strings.Contains(insp.Problems[0], "系统繁忙") {
		t.Fatalf("an inspection waiting for a slot: %v, want the busy message", insp.Problems)
	}
	if _, err := fx.Fix(ctx, m, []byte("not an image")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a fix waiting for a slot: err %v, want the context's", err)
	}

	slots.release()
	insp = in.Inspect(context.Background(), m, []byte("not an image"), dialogs.Facts{})
	if len(insp.Problems) == 0 || strings.Contains(insp.Problems[0], "系统繁忙") {
		t.Fatalf("with the slot free the upload is checked: %v", insp.Problems)
	}
	if len(slots.c) != 0 {
		t.Fatalf("%d slots still taken after the checks", len(slots.c))
	}
}
