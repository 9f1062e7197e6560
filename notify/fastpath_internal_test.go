package notify

import (
	"testing"
	"time"
)

// TestHandedMarksAreForgotten: writing a hand-over forgets the marks older
// than a lease, so an identity that had a failed send and never sends
// again does not stay in the fast path's memory.
func TestHandedMarksAreForgotten(t *testing.T) {
	f := newFastPath(&Notifier{cfg: Config{Lease: time.Minute}})
	f.handed["gone"] = handedMark{id: 1, written: time.Now().Add(-2 * time.Minute)}
	f.handed["recent"] = handedMark{id: 2, written: time.Now().Add(-30 * time.Second)}
	f.held["new"] = 1
	f.handedOver([]handOver{{id: 3, key: "new"}})
	if _, ok := f.handed["gone"]; ok {
		t.Error("a mark older than the lease was kept")
	}
	if m, ok := f.handed["recent"]; !ok || m.id != 2 {
		t.Errorf("a mark within the lease was dropped: %+v", f.handed)
	}
	if m, ok := f.handed["new"]; !ok || m.id != 3 || f.held["new"] != 0 {
		t.Errorf("the written hand-over: mark %+v, held %d", m, f.held["new"])
	}
}
