package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"regbot/store"
	"regbot/store/blob"
)

// Dir has the method set of dialogs.BlobStore (spelled out here so that this
// package's tests do not depend on the engine building).
var _ interface {
	Put(ctx context.Context, data []byte, sensitive bool) (string, error)
	Get(ctx context.Context, ref string) ([]byte, error)
} = (*blob.Dir)(nil)

type testBundle struct {
	root string
	key  []byte
	dir  *blob.Dir
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	key := make([]byte, blob.KeySize)
	rand.Read(key)
	root := t.TempDir()
	dir, err := blob.NewDir(root, key)
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{root: root, key: key, dir: dir}
}

// sampleJPEG is a small real image, so "the bytes on disk are not the image"
// is checked against an image.
func sampleJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func refOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func onDisk(t *testing.T, root, ref string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, ref[:2], ref[2:]))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	img := sampleJPEG(t)
	for _, tc := range []struct {
		name      string
		data      []byte
		sensitive bool
	}{
		{"plain image", img, false},
		{"encrypted image", img[:len(img)-1], true},
		{"empty", []byte{}, true},
		// A plain blob that happens to begin like an encrypted one.
		{"plain with magic", []byte("RBLB\x01 this is just text"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ref, err := b.dir.Put(ctx, tc.data, tc.sensitive)
			if err != nil {
				t.Fatal(err)
			}
			if ref != b.dir.Ref(tc.data) || ref == refOf(tc.data) {
				t.Fatalf("ref %s, want the keyed hash of the plain bytes %s, not their SHA-256 %s", ref, b.dir.Ref(tc.data), refOf(tc.data))
			}
			got, err := b.dir.Get(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatalf("round trip changed the bytes (%d → %d)", len(tc.data), len(got))
			}
			raw := onDisk(t, b.root, ref)
			if tc.sensitive == bytes.Equal(raw, tc.data) {
				t.Fatalf("sensitive=%v but the file on disk equal to the data is %v", tc.sensitive, !tc.sensitive)
			}
		})
	}
}

func TestEncryptedBytesAreNotTheImage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	img := sampleJPEG(t)
	ref, err := b.dir.Put(context.Background(), img, true)
	if err != nil {
		t.Fatal(err)
	}
	raw := onDisk(t, b.root, ref)
	if bytes.HasPrefix(raw, []byte{0xFF, 0xD8}) {
		t.Fatal("encrypted file starts with the JPEG signature")
	}
	if !bytes.HasPrefix(raw, []byte("RBLB\x01")) {
		t.Fatalf("encrypted file has no header: % x", raw[:8])
	}
	// No 16-byte run of the image appears in the file.
	for i := 0; i+16 <= len(img); i += 16 {
		if bytes.Contains(raw, img[i:i+16]) {
			t.Fatalf("image bytes %d..%d appear in the encrypted file", i, i+16)
		}
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(raw)); err == nil {
		t.Fatal("the encrypted file decodes as an image")
	}
	// Same bytes again: same ref, the file is not rewritten.
	info, _ := os.Stat(filepath.Join(b.root, ref[:2], ref[2:]))
	ref2, err := b.dir.Put(context.Background(), img, true)
	if err != nil || ref2 != ref {
		t.Fatalf("second Put: %s, %v", ref2, err)
	}
	if !bytes.Equal(onDisk(t, b.root, ref), raw) {
		t.Fatal("a second Put of the same bytes rewrote the file")
	}
	info2, _ := os.Stat(filepath.Join(b.root, ref[:2], ref[2:]))
	if !info2.ModTime().Equal(info.ModTime()) {
		t.Fatal("a second Put touched the file")
	}
}

func TestWrongKeyFailsLoudly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	img := sampleJPEG(t)
	ref, err := b.dir.Put(ctx, img, true)
	if err != nil {
		t.Fatal(err)
	}
	other := make([]byte, blob.KeySize)
	rand.Read(other)
	wrong, err := blob.NewDir(b.root, other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Get(ctx, ref)
	if !errors.Is(err, blob.ErrWrongKey) {
		t.Fatalf("Get with another key: %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), "different key") {
		t.Fatalf("error does not say what is wrong: %v", err)
	}
	keyless, err := blob.NewDir(b.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyless.Get(ctx, ref); !errors.Is(err, blob.ErrNoKey) {
		t.Fatalf("Get without a key: %v, want ErrNoKey", err)
	}
}

func TestTamperedBlobFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	img := sampleJPEG(t)
	for _, tc := range []struct {
		name      string
		sensitive bool
		offset    int // from the end
	}{
		{"encrypted, last byte", true, 1},
		{"encrypted, middle", true, 200},
		{"plain", false, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ref, err := b.dir.Put(ctx, img, tc.sensitive)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(b.root, ref[:2], ref[2:])
			raw := onDisk(t, b.root, ref)
			raw[len(raw)-tc.offset] ^= 0x40
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := b.dir.Get(ctx, ref); !errors.Is(err, blob.ErrCorrupt) {
				t.Fatalf("Get of a tampered blob: %v, want ErrCorrupt", err)
			}
		})
	}

	// An encrypted blob copied under another ref fails: the ref is bound.
	b := setup(t)
	ref, _ := b.dir.Put(ctx, img, true)
	other := img[:len(img)-2]
	otherRef := b.dir.Ref(other)
	os.MkdirAll(filepath.Join(b.root, otherRef[:2]), 0o700)
	if err := os.WriteFile(filepath.Join(b.root, otherRef[:2], otherRef[2:]), onDisk(t, b.root, ref), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.dir.Get(ctx, otherRef); !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Get of a blob moved under another ref: %v, want ErrCorrupt", err)
	}
}

func TestSensitiveWithoutKeyRefused(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir, err := blob.NewDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Put(context.Background(), []byte("id card"), true); !errors.Is(err, blob.ErrNoKey) {
		t.Fatalf("sensitive Put without a key: %v, want ErrNoKey", err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 0 {
		t.Fatalf("a refused Put left %d entries", len(entries))
	}
	ref, err := dir.Put(context.Background(), []byte("form"), false)
	if err != nil {
		t.Fatalf("plain Put without a key: %v", err)
	}
	if got, err := dir.Get(context.Background(), ref); err != nil || string(got) != "form" {
		t.Fatalf("Get: %q, %v", got, err)
	}
}

func TestNewDirKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := blob.NewDir(t.TempDir(), make([]byte, n)); err == nil {
			t.Errorf("a %d-byte key was accepted", n)
		}
	}
	if _, err := blob.NewDir("", nil); err == nil {
		t.Error("an empty root was accepted")
	}
}

func TestPlainUpgradedToEncrypted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	img := sampleJPEG(t)
	ref, err := b.dir.Put(ctx, img, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk(t, b.root, ref), img) {
		t.Fatal("plain blob not stored as is")
	}
	if _, err := b.dir.Put(ctx, img, true); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(onDisk(t, b.root, ref), img) {
		t.Fatal("the same bytes put as sensitive are still plain on disk")
	}
	// A later plain Put leaves the encrypted copy alone.
	enc := onDisk(t, b.root, ref)
	if _, err := b.dir.Put(ctx, img, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk(t, b.root, ref), enc) {
		t.Fatal("a plain Put replaced the encrypted copy")
	}
	if got, err := b.dir.Get(ctx, ref); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("Get after upgrade: %v", err)
	}
}

func TestConcurrentPutOfSameData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	img := sampleJPEG(t)
	const n = 16
	refs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { refs[i], errs[i] = b.dir.Put(ctx, img, i%2 == 0) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || refs[i] != refs[0] {
			t.Fatalf("Put %d: %s, %v (first %s)", i, refs[i], errs[i], refs[0])
		}
	}
	got, err := b.dir.Get(ctx, refs[0])
	if err != nil || !bytes.Equal(got, img) {
		t.Fatalf("Get after concurrent Puts: %v", err)
	}
	// One file, no temporary files left behind.
	var files []string
	filepath.WalkDir(b.root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("files after concurrent Puts: %v", files)
	}
}

func TestRefsValidated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	// A file outside the store that a traversal would reach.
	secret := filepath.Join(filepath.Dir(b.root), "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)
	valid := refOf([]byte("x"))
	for _, ref := range []string{
		"",
		"../secret",
		"../../../../../../etc/passwd",
		strings.Repeat("a", 63),
		strings.Repeat("a", 65),
		strings.ToUpper(valid),
		".." + valid[2:],
		valid[:2] + "/" + valid[3:],
		"../" + valid[3:],
		valid[:63] + "g",
	} {
		_, err := b.dir.Get(ctx, ref)
		if !errors.Is(err, blob.ErrBadRef) {
			t.Errorf("Get(%q): %v, want ErrBadRef", ref, err)
		}
	}
	if _, err := b.dir.Get(ctx, valid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a missing ref: %v, want store.ErrNotFound", err)
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.dir.Put(ctx, []byte("x"), false); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	key := make([]byte, blob.KeySize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, s := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), " " + hex.EncodeToString(key) + "\n"} {
		got, err := blob.ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "secret", hex.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(key[:31])} {
		if _, err := blob.ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}
