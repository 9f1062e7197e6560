// Package blob keeps uploaded files in a directory, content-addressed, and
// encrypts the sensitive ones (ID cards, photos) at rest with AES-256-GCM.
// Dir satisfies dialogs.Blobs and the engine's BlobStore; the files' metadata
// lives in PostgreSQL, not here.
//
// With a key, a blob's ref is the HMAC-SHA-256 of its plain bytes under a
// key derived from the encryption key, so that nobody holding a photo can
// tell from the directory (or a ref in the record) that it is stored.
// Without a key (development) it is their SHA-256. Refs written before
// names were keyed (plain SHA-256) still read: Rekey renames their files to
// a keyed name, which Get also looks under.
//
// On disk a blob is root/ab/cdef… (the ref split after two hex digits). A
// plain blob is the bytes as uploaded. An encrypted blob is
//
//	"RBLB" | version (1 byte) | key id (4 bytes) | nonce (12 bytes) | sealed data
//
// where the key id is derived from the key, so that reading with another key
// says so instead of reporting a generic authentication failure, and the
// header and the ref are the GCM additional data, so a blob cannot be moved
// under another ref.
package blob

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"regbot/store"
)

// Errors callers may branch on; store.ErrNotFound is returned for a ref that
// is not stored.
var (
	// ErrNoKey means a sensitive blob was to be written, or an encrypted blob
	// read, but the Dir has no encryption key.
	ErrNoKey = errors.New("no encryption key configured")
	// ErrWrongKey means an encrypted blob was written under another key.
	ErrWrongKey = errors.New("blob was encrypted with a different key")
	// ErrCorrupt means the stored bytes fail authentication or do not hash to
	// their ref: the file was damaged or tampered with.
	ErrCorrupt = errors.New("blob is corrupt or was tampered with")
	// ErrBadRef means a ref is not 64 lowercase hex digits.
	ErrBadRef = errors.New("invalid blob ref")
)

// KeySize is the length of the encryption key NewDir takes (AES-256).
const KeySize = 32

const (
	magic      = "RBLB"
	version    = 1
	keyIDSize  = 4
	nonceSize  = 12
	headerSize = len(magic) + 1 + keyIDSize + nonceSize
	refLen     = sha256.Size * 2
	tempPrefix = ".tmp-"
)

// ParseKey reads an encryption key as configured: 64 hex digits or the
// standard base64 of 32 bytes (openssl rand -hex 32 / -base64 32).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if key, err := hex.DecodeString(s); err == nil && len(key) == KeySize {
		return key, nil
	}
	if key, err := base64.StdEncoding.DecodeString(s); err == nil && len(key) == KeySize {
		return key, nil
	}
	return nil, fmt.Errorf("blob key: want 64 hex digits or base64 of %d bytes", KeySize)
}

// Dir is a blob store in a directory. It is safe for concurrent use, also by
// several processes sharing the directory.
type Dir struct {
	root  string
	aead  cipher.AEAD // nil without a key
	keyID [keyIDSize]byte
	// nameKey keys refs and the names of legacy files (nil without a key).
	nameKey []byte
}

// NewDir opens (creating it if needed) the blob directory root. key is nil,
// which allows only non-sensitive blobs, or KeySize bytes for AES-256-GCM.
func NewDir(root string, key []byte) (*Dir, error) {
	if root == "" {
		return nil, errors.New("blob dir: empty root")
	}
	d := &Dir{root: root}
	if key != nil {
		if len(key) != KeySize {
			return nil, fmt.Errorf("blob dir: key is %d bytes, want %d", len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("blob dir: %w", err)
		}
		if d.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("blob dir: %w", err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte("regbot blob key id"))
		copy(d.keyID[:], mac.Sum(nil))
		mac = hmac.New(sha256.New, key)
		mac.Write([]byte("regbot blob name v1"))
		d.nameKey = mac.Sum(nil)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	return d, nil
}

// Put stores data and returns its ref (Ref). A blob that
// is already stored is not written again, except that a plain copy is
// replaced by an encrypted one when the same bytes arrive as sensitive (the
// content stays the same; only its protection improves). Sensitive blobs are
// encrypted; without a key they are refused with ErrNoKey.
func (d *Dir) Put(ctx context.Context, data []byte, sensitive bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if sensitive && d.aead == nil {
		return "", fmt.Errorf("put sensitive blob: %w", ErrNoKey)
	}
	ref := d.Ref(data)
	path := d.path(ref)

	upgrade := false
	if head, err := readHead(path); err == nil {
		if !sensitive || isEncrypted(head) {
			return ref, nil
		}
		upgrade = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("put blob %s: %w", ref, err)
	}

	content := data
	if sensitive {
		var err error
		if content, err = d.seal(ref, data); err != nil {
			return "", fmt.Errorf("put blob %s: %w", ref, err)
		}
	}
	if err := writeFile(path, content, upgrade); err != nil {
		return "", fmt.Errorf("put blob %s: %w", ref, err)
	}
	return ref, nil
}

// Get returns the plain bytes stored under ref, decrypting them if needed and
// checking that they hash to ref. A ref that is not stored gives
// store.ErrNotFound.
func (d *Dir) Get(ctx context.Context, ref string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validRef(ref) {
		return nil, fmt.Errorf("get blob: %w", ErrBadRef)
	}
	raw, err := os.ReadFile(d.path(ref))
	if errors.Is(err, fs.ErrNotExist) && d.nameKey != nil {
		// A ref from before names were keyed, its file renamed by Rekey.
		raw, err = os.ReadFile(d.path(d.legacyName(ref)))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get blob %s: %w", ref, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", ref, err)
	}
	data := raw
	if isEncrypted(raw) && !d.hashesTo(raw, ref) {
		// A plain blob may begin with the magic by chance; its hash tells.
		if data, err = d.open(ref, raw); err != nil {
			return nil, fmt.Errorf("get blob %s: %w", ref, err)
		}
	}
	if !d.hashesTo(data, ref) {
		return nil, fmt.Errorf("get blob %s: %w", ref, ErrCorrupt)
	}
	return data, nil
}

// Ref is the ref data is stored under: its HMAC-SHA-256 under the name key
// (its SHA-256 without a key), in hex. The engine compares uploads by it,
// so that the session holds no plain content hash either.
func (d *Dir) Ref(data []byte) string {
	if d.nameKey == nil {
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:])
	}
	mac := hmac.New(sha256.New, d.nameKey)
	mac.Write(data)
	return hex.EncodeToString(mac.Sum(nil))
}

// legacyName is the file name Rekey gives a blob whose ref is its plain
// SHA-256: keyed, so the name no longer tells what it holds.
func (d *Dir) legacyName(ref string) string {
	mac := hmac.New(sha256.New, d.nameKey)
	mac.Write([]byte("legacy\x00"))
	mac.Write([]byte(ref))
	return hex.EncodeToString(mac.Sum(nil))
}

// Rekey renames the files of blobs stored before refs were keyed (named by
// the plain SHA-256 of their bytes) to a keyed name, where Get still finds
// them by their old ref; it returns how many it renamed. It reads (and
// decrypts) every blob once; run it once after upgrading, while the
// service runs or not (`regbot blobs rekey`). Without a key it does
// nothing.
func (d *Dir) Rekey(ctx context.Context) (int, error) {
	if d.nameKey == nil {
		return 0, nil
	}
	renamed := 0
	err := filepath.WalkDir(d.root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, path)
		if err != nil {
			return err
		}
		ref := strings.ReplaceAll(rel, string(filepath.Separator), "")
		if !validRef(ref) || strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data := raw
		if isEncrypted(raw) && !plainHashesTo(raw, ref) {
			if data, err = d.open(ref, raw); err != nil {
				// Not a legacy blob sealed under this ref (a keyed name):
				// left as it is.
				return nil
			}
		}
		if !plainHashesTo(data, ref) {
			return nil // a keyed ref or a renamed legacy blob
		}
		to := d.path(d.legacyName(ref))
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return err
		}
		if err := os.Rename(path, to); err != nil {
			return err
		}
		renamed++
		return syncDir(filepath.Dir(to))
	})
	if err != nil {
		return renamed, fmt.Errorf("rekey blobs: %w", err)
	}
	return renamed, nil
}

func (d *Dir) path(ref string) string {
	return filepath.Join(d.root, ref[:2], ref[2:])
}

func (d *Dir) seal(ref string, data []byte) ([]byte, error) {
	out := make([]byte, headerSize, headerSize+len(data)+d.aead.Overhead())
	copy(out, magic)
	out[len(magic)] = version
	copy(out[len(magic)+1:], d.keyID[:])
	if _, err := rand.Read(out[headerSize-nonceSize : headerSize]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	header := out[:headerSize]
	return d.aead.Seal(out, header[headerSize-nonceSize:], data, additionalData(header, ref)), nil
}

func (d *Dir) open(ref string, raw []byte) ([]byte, error) {
	if d.aead == nil {
		return nil, fmt.Errorf("decrypt: %w", ErrNoKey)
	}
	if len(raw) < headerSize+d.aead.Overhead() {
		return nil, fmt.Errorf("decrypt: short file: %w", ErrCorrupt)
	}
	if v := raw[len(magic)]; v != version {
		return nil, fmt.Errorf("decrypt: unknown format version %d", v)
	}
	if !bytes.Equal(raw[len(magic)+1:len(magic)+1+keyIDSize], d.keyID[:]) {
		return nil, fmt.Errorf("decrypt: key id %x, configured key has %x: %w",
			raw[len(magic)+1:len(magic)+1+keyIDSize], d.keyID, ErrWrongKey)
	}
	header := raw[:headerSize]
	plain, err := d.aead.Open(nil, header[headerSize-nonceSize:], raw[headerSize:], additionalData(header, ref))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w: %w", ErrCorrupt, err)
	}
	return plain, nil
}

func additionalData(header []byte, ref string) []byte {
	return append(append([]byte(nil), header...), ref...)
}

func isEncrypted(head []byte) bool {
	return len(head) > len(magic) && string(head[:len(magic)]) == magic
}

// hashesTo reports whether data is what ref names: its keyed ref, or its
// plain SHA-256 (a ref from before names were keyed).
func (d *Dir) hashesTo(data []byte, ref string) bool {
	if d.nameKey != nil {
		mac := hmac.New(sha256.New, d.nameKey)
		mac.Write(data)
		var want [sha256.Size]byte
		if _, err := hex.Decode(want[:], []byte(ref)); err == nil && hmac.Equal(mac.Sum(nil), want[:]) {
			return true
		}
	}
	return plainHashesTo(data, ref)
}

func plainHashesTo(data []byte, ref string) bool {
	sum := sha256.Sum256(data)
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(ref)); err != nil {
		return false
	}
	return sum == want
}

// validRef accepts exactly 64 lowercase hex digits, so a ref can never name
// a path outside the fan-out directories.
func validRef(ref string) bool {
	if len(ref) != refLen {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readHead reads the first bytes of path, enough to tell plain from
// encrypted.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, len(magic)+1)
	n, _ := f.Read(head)
	return head[:n], nil
}

// writeFile writes content to path atomically: a temporary file in the same
// directory, fsynced, then linked into place (which never replaces an
// existing file; a concurrent writer of the same blob simply wins) or, when
// replace is set, renamed over it. The directory is fsynced afterwards.
func writeFile(path string, content []byte, replace bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // after a link or a failure; a no-op after a rename
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if replace {
		err = os.Rename(name, path)
	} else {
		err = os.Link(name, path)
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		if err != nil {
			// Filesystems without hard links: rename, which may replace a
			// concurrent writer's identical blob.
			err = os.Rename(name, path)
		}
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
