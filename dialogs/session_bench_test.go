package dialogs_test

import (
	"context"
	"testing"

	"regbot/dialogs"
	"regbot/store"
)

// midDialog returns a session part-way through a real dialog: a work
// period given, the training certificate and hours answered, the school
// question being asked.
func midDialog(tb testing.TB) (*dialogs.Engine, *dialogs.Session) {
	tb.Helper()
	e := newEngine(tb)
	s := e.NewSession(store.Identity{Channel: "wechat", UserID: "oAbCdEfGhIjKlMnOpQrStUvWxYz0"})
	for _, msg := range []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2024-01", "至今", "否"} {
		if _, err := e.Handle(context.Background(), s, dialogs.Inbound{Text: msg}); err != nil {
			tb.Fatal(err)
		}
	}
	for _, msg := range []string{"是", "96"} {
		if _, err := e.Handle(context.Background(), s, dialogs.Inbound{Text: msg}); err != nil {
			tb.Fatal(err)
		}
	}
	if s.Step != "school_kind" {
		tb.Fatalf("setup reached step %q, want school_kind", s.Step)
	}
	return e, s
}

// BenchmarkSessionEncode measures Marshal of a mid-dialog session (what
// every turn that changes the session pays); bytes is its size.
func BenchmarkSessionEncode(b *testing.B) {
	_, s := midDialog(b)
	data, err := s.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes")
}

// BenchmarkSessionDecode measures Unmarshal of a mid-dialog session (what
// every turn pays for the cached copy).
func BenchmarkSessionDecode(b *testing.B) {
	e, s := midDialog(b)
	data, err := s.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes")
}
