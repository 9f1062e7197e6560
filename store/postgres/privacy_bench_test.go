package postgres

import (
	"bytes"
	"strings"
	"testing"

	"regbot/store"
	"regbot/store/seal"
)

// BenchmarkSealTurn is the record's privacy work on a typical turn: a
// 3 KB session snapshot, a short message and answers holding an ID number
// and a mobile (sealed, with their blind indexes).
func BenchmarkSealTurn(b *testing.B) {
	keys, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	t := &store.Turn{Inbound: "我的手机号是13800138000",
		Session: []byte(`{"v":1,"answers":{"name":"张三"}` + strings.Repeat(" ", 3000) + `}`),
		Answers: map[string]any{"name": "张三", "id_number": "110101199003074578", "mobile": "13800138000", "has_prior_cert": false}}
	for _, tc := range []struct {
		name string
		keys *seal.Keys
	}{{"plain", nil}, {"sealed", keys}} {
		b.Run(tc.name, func(b *testing.B) {
			s := &Store{keys: tc.keys}
			b.ReportAllocs()
			for b.Loop() {
				var st store.Turn
				sealed, err := s.sealTurn(t, &st)
				if err != nil {
					b.Fatal(err)
				}
				sealed.release()
			}
		})
	}
}
