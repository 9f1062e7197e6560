package dialogs_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// TestOldJSONSessionLoads: a session as Marshal wrote it before the compact
// encoding (testdata/session_v1.json, written by the JSON Marshal from the
// dialog midDialog plays) loads into the same Session as the dialog's, and
// is written again in the compact form.
func TestOldJSONSessionLoads(t *testing.T) {
	e, want := midDialog(t)
	old, err := os.ReadFile("testdata/session_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Unmarshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("old JSON session loads as\n%+v\nwant\n%+v", got, want)
	}
	data, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != store.SessionBinary {
		t.Fatalf("written again as %q, want the compact encoding", data)
	}
	if len(data) >= len(old) {
		t.Errorf("compact form %d bytes, JSON %d", len(data), len(old))
	}
	again, err := e.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, want) {
		t.Fatalf("compact round trip gives\n%+v\nwant\n%+v", again, want)
	}
}

// TestSessionCodecCarriesEveryField sets every field of a Session, nested
// ones too, to a value that is not its zero, and requires the compact
// encoding to give it back: a field added to Session and not to
// sessioncodec.go fails here.
func TestSessionCodecCarriesEveryField(t *testing.T) {
	e, _ := midDialog(t)
	var s dialogs.Session
	fill(t, reflect.ValueOf(&s).Elem(), "session")
	s.Version = dialogs.SessionVersion
	s.Answers = map[string]any{"b": true, "f": false, "n": 96.5, "s": "电子商务师", "z": nil, "neg": -3.0}
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if data[0] != store.SessionBinary {
		t.Fatalf("written as %q, want the compact encoding", data)
	}
	got, err := e.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &s) {
		t.Fatalf("compact round trip gives\n%+v\nwant\n%+v", got, &s)
	}
	if u, err := store.SessionPaymentURL(data); err != nil || u != s.PaymentURL {
		t.Fatalf("store.SessionPaymentURL = %q, %v; want %q", u, err, s.PaymentURL)
	}
	// The same map in another order is the same bytes: the router writes
	// the snapshot only when the bytes change.
	for range 20 {
		again, err := got.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Fatal("the same session marshals to different bytes")
		}
	}
	// Every truncation is an error, not a panic or a short session.
	for n := 1; n < len(data); n++ {
		if _, err := e.Unmarshal(data[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
		}
	}
}

// fill sets v to a non-zero value, recursively.
func fill(t *testing.T, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(int64(len(path)))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(t, v.Index(0), path+"[0]")
		fill(t, v.Index(1), path+"[1]")
	case reflect.Map:
		if v.Type().Elem().Kind() == reflect.Interface {
			return // Answers: set by the caller
		}
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"a", "b"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(t, e, path+"."+k)
			v.SetMapIndex(reflect.ValueOf(k), e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 8, 0, len(path), 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("%s: kind %s not filled; teach fill and sessioncodec.go", path, v.Kind())
	}
}

// TestSessionEncodings: an empty snapshot and an unknown first byte are
// errors (the router then takes the record's copy); the old JSON form's
// payment URL is read by the store as the compact form's is.
func TestSessionEncodings(t *testing.T) {
	e, s := midDialog(t)
	for _, data := range [][]byte{nil, {0x07, 0, 0}, []byte("[1]")} {
		if _, err := e.Unmarshal(data); err == nil {
			t.Errorf("Unmarshal(%q): no error", data)
		}
	}
	s.PaymentURL = "https://pay.example.com/o/1"
	data, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`{"v":1,"plan":"internet-marketing-l4","step":"done","payment_url":"https://pay.example.com/o/1","status":"awaiting_payment"}`)
	for _, snap := range [][]byte{data, old} {
		if u, err := store.SessionPaymentURL(snap); err != nil || u != s.PaymentURL {
			t.Errorf("SessionPaymentURL(%q) = %q, %v", snap, u, err)
		}
	}
	if u, err := store.SessionPaymentURL(nil); err != nil || u != "" {
		t.Errorf("SessionPaymentURL(nil) = %q, %v", u, err)
	}
}

// FuzzSessionDecode: no input panics Unmarshal, and what it reads
// marshals to bytes that read back to the same bytes again.
func FuzzSessionDecode(f *testing.F) {
	e, s := midDialog(f)
	compact, err := s.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	old, err := os.ReadFile("testdata/session_v1.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(compact)
	f.Add(old)
	f.Add([]byte{store.SessionBinary})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := e.Unmarshal(data)
		if err != nil {
			return
		}
		first, err := s.Marshal()
		if err != nil {
			return
		}
		again, err := e.Unmarshal(first)
		if err != nil {
			t.Fatalf("%q read, marshalled to %q, which does not read: %v", data, first, err)
		}
		second, err := again.Marshal()
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("%q read: marshals to %q, then %q (%v)", data, first, second, err)
		}
	})
}
