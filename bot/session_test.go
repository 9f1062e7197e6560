package bot_test

import (
	"context"
	"strconv"
	"testing"

	"regbot/store"
)

// TestCachedSessionOfUnknownEncoding: the cached session in Redis starts
// with a byte that is neither the compact encoding's nor JSON's '{' (a
// later version's, or damaged): the turn goes on from the record's copy,
// at the same question with the earlier answers.
func TestCachedSessionOfUnknownEncoding(t *testing.T) {
	onBoth(t, func(t *testing.T, b *testBundle) {
		for i, text := range []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2023-01", "至今", "否"} {
			b.send(t, "u-enc", "e"+strconv.Itoa(i), text)
		}
		id := store.Identity{Channel: "test", UserID: "u-enc"}
		cached, err := b.rs.CachedSession(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cached.Data[0] != store.SessionBinary {
			t.Fatalf("cached session starts %#x, want the compact encoding", cached.Data[0])
		}
		key := b.prefix + "session:{" + id.Key() + "}"
		if err := b.rdb.HSet(context.Background(), key, "d", "\x07"+string(cached.Data[1:])).Err(); err != nil {
			t.Fatal(err)
		}
		res := b.send(t, "u-enc", "e6", "是") // has_prior_cert: yes
		if got := asked(res); got != "prior_cert_date" {
			t.Fatalf("after the unreadable cache the bot asks %q, want prior_cert_date", got)
		}
		s, err := b.router.Engine().Unmarshal(mustCached(t, b, id))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Work) != 1 || s.Answers["has_prior_cert"] != true {
			t.Fatalf("session after the unreadable cache: work %+v, answers %v", s.Work, s.Answers)
		}
	})
}

func mustCached(t *testing.T, b *testBundle, id store.Identity) []byte {
	t.Helper()
	c, err := b.rs.CachedSession(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Data
}
