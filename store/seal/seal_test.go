package seal_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"regbot/store/seal"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k, err := seal.New(key(1))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"id_number":"110101199003074578"}`)
	sealed := k.Seal(plain, []byte("applications.snapshot"))
	if !seal.Sealed(sealed) || bytes.Contains(sealed, []byte("110101199003074578")) {
		t.Fatalf("sealed bytes %x hold the plain text", sealed)
	}
	if again := k.Seal(plain, []byte("applications.snapshot")); bytes.Equal(again, sealed) {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
	got, err := k.Open(sealed, []byte("applications.snapshot"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		ad   string
		want error
	}{
		{"other column", sealed, "inbound_messages.text", seal.ErrCorrupt},
		{"flipped bit", append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "applications.snapshot", seal.ErrCorrupt},
		{"truncated", sealed[:len(sealed)-3], "applications.snapshot", seal.ErrCorrupt},
	} {
		if _, err := k.Open(tc.b, []byte(tc.ad)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A value written before encryption is read as it is.
	if got, err := k.Open(plain, nil); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("legacy value: %q, %v", got, err)
	}
	var none *seal.Keys
	if _, err := none.Open(sealed, []byte("applications.snapshot")); !errors.Is(err, seal.ErrNoKey) {
		t.Errorf("sealed value without keys: %v, want ErrNoKey", err)
	}
	if got := none.Seal(plain, nil); !bytes.Equal(got, plain) {
		t.Error("the insecure mode seals")
	}
}

func TestSealText(t *testing.T) {
	t.Parallel()
	k, _ := seal.New(key(1))
	s := k.SealText("我的手机号是13800138000", "inbound_messages.text")
	if !strings.HasPrefix(s, seal.TextPrefix) || strings.Contains(s, "13800138000") || strings.ContainsRune(s, 0) {
		t.Fatalf("sealed text %q", s)
	}
	if got, err := k.OpenText(s, "inbound_messages.text"); err != nil || got != "我的手机号是13800138000" {
		t.Fatalf("OpenText = %q, %v", got, err)
	}
	if got, err := k.OpenText("你好", "inbound_messages.text"); err != nil || got != "你好" {
		t.Errorf("legacy text: %q, %v", got, err)
	}
	if _, err := k.OpenText(seal.TextPrefix+"!!!", "x"); !errors.Is(err, seal.ErrCorrupt) {
		t.Errorf("garbage after the prefix: %v", err)
	}
}

// TestRotation: after a rotation the old key still opens what it sealed,
// Current tells what to reseal, and lookups match indexes made under
// either key; a key that is not configured is named as such.
func TestRotation(t *testing.T) {
	t.Parallel()
	old, _ := seal.New(key(1))
	sealed := old.Seal([]byte("13800138000"), []byte("a"))
	oldIndex := old.Index("mobile", "13800138000")

	rotated, err := seal.New(key(2), key(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealed, []byte("a")); err != nil || string(got) != "13800138000" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	if rotated.Current(sealed) || !rotated.Current(rotated.Seal([]byte("x"), nil)) {
		t.Error("Current does not tell the old key from the new")
	}
	idx := rotated.Indexes("mobile", "13800138000")
	if len(idx) != 2 || !bytes.Equal(idx[1], oldIndex) || bytes.Equal(idx[0], oldIndex) {
		t.Errorf("indexes after rotation: %x (old %x)", idx, oldIndex)
	}
	other, _ := seal.New(key(3))
	if _, err := other.Open(sealed, []byte("a")); !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("another key: %v, want ErrUnknownKey", err)
	}
}

// TestIndex: equal values under one field give one index; another field,
// another value or another key gives another.
func TestIndex(t *testing.T) {
	t.Parallel()
	k, _ := seal.New(key(1))
	k2, _ := seal.New(key(2))
	a := k.Index("mobile", "13800138000")
	for name, b := range map[string][]byte{
		"other value": k.Index("mobile", "13800138001"),
		"other field": k.Index("id_number", "13800138000"),
		"other key":   k2.Index("mobile", "13800138000"),
	} {
		if bytes.Equal(a, b) {
			t.Errorf("%s: same index", name)
		}
	}
	if !bytes.Equal(a, k.Index("mobile", "13800138000")) {
		t.Error("the index of one value changes")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", strings.Repeat("ab", 32)} {
		if _, err := seal.ParseKey(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "short", strings.Repeat("ab", 31)} {
		if _, err := seal.ParseKey(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestSealToReusesTheBuffer: SealTo into a buffer with room does not
// allocate, and opens like Seal.
func TestSealToReusesTheBuffer(t *testing.T) {
	k, _ := seal.New(key(1))
	plain := bytes.Repeat([]byte("会话"), 1000)
	buf := make([]byte, 0, k.SealedSize(len(plain)))
	ad := []byte("a")
	if n := testing.AllocsPerRun(20, func() { buf = k.SealTo(buf, plain, ad) }); n > 0 {
		t.Errorf("SealTo allocates %v times", n)
	}
	if got, err := k.Open(buf, []byte("a")); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open after SealTo: %v", err)
	}
}

// TestSealTextAllocatesItsResultOnly: SealText's work happens in a reused
// buffer; texts of every length open again.
func TestSealTextAllocatesItsResultOnly(t *testing.T) {
	k, _ := seal.New(key(1))
	for _, n := range []int{0, 1, 17, 1000, 70 << 10} {
		plain := strings.Repeat("字", n)
		s := k.SealText(plain, "inbound_messages.text")
		if got, err := k.OpenText(s, "inbound_messages.text"); err != nil || got != plain {
			t.Fatalf("%d characters: %v", n, err)
		}
	}
	if n := testing.AllocsPerRun(50, func() { k.SealText("我的手机号是13800138000", "inbound_messages.text") }); n > 1 {
		t.Errorf("SealText allocates %v times, want 1 (its result)", n)
	}
}
