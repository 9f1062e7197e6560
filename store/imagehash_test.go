package store_test

import (
	"strings"
	"testing"

	"regbot/store"
)

func TestImageHashDistance(t *testing.T) {
	t.Parallel()
	zero := store.ImageHash(strings.Repeat("0", 128))
	three := store.ImageHash("07" + strings.Repeat("0", 126))
	far := store.ImageHash(strings.Repeat("f", 128))
	for _, tc := range []struct {
		a, b store.ImageHash
		dist int
		near bool
	}{
		{zero, zero, 0, true},
		{zero, three, 3, true},
		{zero, far, 512, false},
		{"", "", -1, false},
		{zero, "xyz", -1, false},
		{zero, store.ImageHash(strings.Repeat("0", 64)), -1, false},
	} {
		if d := tc.a.Distance(tc.b); d != tc.dist {
			t.Errorf("Distance(%.8s…, %.8s…) = %d, want %d", tc.a, tc.b, d, tc.dist)
		}
		if n := tc.a.Near(tc.b); n != tc.near {
			t.Errorf("Near(%.8s…, %.8s…) = %v, want %v", tc.a, tc.b, n, tc.near)
		}
	}
}
