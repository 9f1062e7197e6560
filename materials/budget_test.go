package materials

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
)

func TestDecodeBudgetBoundsConcurrentWork(t *testing.T) {
	t.Parallel()
	photo := jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1}), 60<<10)
	weight := int64(295 * 413 * 4)
	budget := NewDecodeBudget(weight + weight/2) // room for one such photo
	in := NewInspector(planTexts(), WithDecodeBudget(budget))
	fx := NewFixer(planTexts(), WithDecodeBudget(budget))

	// Another upload holds most of the budget.
	hold, err := budget.acquire(context.Background(), header{w: 295, h: 413})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	insp := in.Inspect(ctx, photoMaterial, photo, dialogs.Facts{})
	if len(insp.Problems) != 1 || !strings.Contains(insp.Problems[0], "系统繁忙") {
		t.Fatalf("an inspection waiting for the budget: %v, want the busy message", insp.Problems)
	}
	if _, err := fx.Fix(ctx, photoMaterial, photo); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a fix waiting for the budget: err %v, want the context's", err)
	}
	// Files refused from their header take nothing from the budget.
	if insp := in.Inspect(ctx, photoMaterial, []byte("not an image"), dialogs.Facts{}); strings.Contains(strings.Join(insp.Problems, ""), "系统繁忙") {
		t.Fatalf("a file that is no image waited for the budget: %v", insp.Problems)
	}

	hold()
	if insp := in.Inspect(context.Background(), photoMaterial, photo, dialogs.Facts{}); len(insp.Problems) != 0 {
		t.Fatalf("with the budget free the photo is checked: %v", insp.Problems)
	}
	// Everything was given back: the whole budget can be taken again.
	if !budget.sem.TryAcquire(budget.total) {
		t.Fatal("the checks did not give their share of the budget back")
	}
}

// The largest image allowed weighs more than a small budget: it waits for
// the whole budget instead of forever.
func TestDecodeBudgetTakesAtMostTheWhole(t *testing.T) {
	t.Parallel()
	budget := NewDecodeBudget(1 << 20)
	release, err := budget.acquire(t.Context(), header{w: 6000, h: 6000})
	if err != nil {
		t.Fatal(err)
	}
	release()
}
