package redis

import (
	"testing"

	"regbot/store"
)

// turnKeys builds its three keys in one string: each must be the key the
// rest of the package builds for the same candidate.
func TestTurnKeys(t *testing.T) {
	t.Parallel()
	s := &Store{prefix: "p:"}
	id := store.Identity{Channel: "wechat", UserID: "oAbC-12"}
	k := s.turnKeys(id, "2417")
	want := turnKeys{
		lock:    s.lockKey(id),
		msg:     "p:msg:{wechat:oAbC-12}:2417",
		session: s.sessionKey(id),
	}
	if k != want {
		t.Errorf("turnKeys = %+v, want %+v", k, want)
	}
	if k := s.turnKeys(id, ""); k.msg != "p:msg:{wechat:oAbC-12}:" || k.session != want.session {
		t.Errorf("turnKeys without a message id = %+v", k)
	}
}
