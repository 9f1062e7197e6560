package notify

import "regbot/store"

// HandOverWritten reports whether a hand-over of one of id's rows, with a
// hold, has been written to the queue (the fast path marked the identity).
func HandOverWritten(n *Notifier, id store.Identity) bool {
	n.fast.mu.Lock()
	defer n.fast.mu.Unlock()
	_, ok := n.fast.handed[id.Key()]
	return ok
}
