package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"regbot/store"
)

// legacyPut stores data as the Dir did before refs were keyed: named by
// the plain SHA-256 of the bytes, sealed under that ref when sensitive.
func legacyPut(t *testing.T, d *Dir, data []byte, sensitive bool) string {
	t.Helper()
	sum := sha256.Sum256(data)
	ref := hex.EncodeToString(sum[:])
	content := data
	if sensitive {
		var err error
		if content, err = d.seal(ref, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeFile(d.path(ref), content, false); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestRekeyHidesLegacyNames: blobs stored under the plain SHA-256 of their
// bytes still read by that ref before and after Rekey; after it no file in
// the directory is named by a content's SHA-256 (anyone holding the photo
// could otherwise confirm it is stored); new blobs get keyed refs; a second
// Rekey renames nothing.
func TestRekeyHidesLegacyNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := make([]byte, KeySize)
	rand.Read(key)
	root := t.TempDir()
	d, err := NewDir(root, key)
	if err != nil {
		t.Fatal(err)
	}
	photo, form := []byte("photo of a face"), []byte("a scanned form")
	legacy := map[string][]byte{legacyPut(t, d, photo, true): photo, legacyPut(t, d, form, false): form}
	fresh, err := d.Put(ctx, []byte("new photo"), true)
	if err != nil {
		t.Fatal(err)
	}
	readAll := func(when string) {
		for ref, want := range legacy {
			got, err := d.Get(ctx, ref)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: legacy ref %s: %q, %v", when, ref[:8], got, err)
			}
		}
		if got, err := d.Get(ctx, fresh); err != nil || string(got) != "new photo" {
			t.Fatalf("%s: new ref: %q, %v", when, got, err)
		}
	}
	readAll("before Rekey")
	n, err := d.Rekey(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Rekey renamed %d (%v), want the 2 legacy blobs", n, err)
	}
	readAll("after Rekey")
	plainNames := map[string]bool{}
	for _, data := range [][]byte{photo, form, []byte("new photo")} {
		sum := sha256.Sum256(data)
		plainNames[hex.EncodeToString(sum[:])] = true
	}
	filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(root, path)
			if name := strings.ReplaceAll(rel, string(filepath.Separator), ""); plainNames[name] {
				t.Errorf("a file is still named by its content's SHA-256: %s", rel)
			}
		}
		return nil
	})
	if n, err := d.Rekey(ctx); err != nil || n != 0 {
		t.Errorf("a second Rekey renamed %d (%v)", n, err)
	}
	// The same photo uploaded again is stored under its keyed ref.
	again, err := d.Put(ctx, photo, true)
	if err != nil || legacy[again] != nil {
		t.Fatalf("photo again: ref %s, %v; want a keyed ref", again, err)
	}
	// A legacy ref that was never stored is still not found.
	if _, err := d.Get(ctx, strings.Repeat("ab", 32)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown ref: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatal(err)
	}
}
