// Package seal protects personal data at rest in the record: it encrypts
// values (AES-256-GCM) and computes blind indexes (HMAC-SHA-256) by which
// an encrypted value can still be found by equality, under keys configured
// outside the database (docs/privacy.md).
//
// A Keys holds the current key, which seals, and older keys, which still
// open what they sealed, so that keys can be rotated: a sealed value names
// the key that sealed it. Each key gives two sub-keys (HMAC-SHA-256 of the
// key and a label): one for AES-GCM, one for the blind index; the index of
// a value is computed under every key, so lookups find rows sealed before a
// rotation as well as after it.
//
// Sealed bytes are
//
//	0x00 | version 0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext and tag
//
// A leading NUL never starts what the record held before (UTF-8 text
// without NUL, JSON), so unsealed legacy values are told apart and read as
// they are. In text and jsonb columns, which cannot hold NUL, the sealed
// bytes are written as TextPrefix followed by their unpadded base64.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

// KeySize is the length of a key (256 bits).
const KeySize = 32

// TextPrefix starts a sealed value stored as text.
const TextPrefix = "sealed:v1:"

const (
	version   = 1
	keyIDSize = 4
	nonceSize = 12
	// headerSize is the bytes before the ciphertext.
	headerSize = 2 + keyIDSize + nonceSize
)

// Errors callers may branch on.
var (
	// ErrUnknownKey means a value was sealed under a key that is not
	// configured (neither the current key nor an old one).
	ErrUnknownKey = errors.New("sealed under a key that is not configured")
	// ErrCorrupt means sealed bytes fail authentication: damaged, tampered
	// with, or moved from another column or row.
	ErrCorrupt = errors.New("sealed value is corrupt or was tampered with")
	// ErrNoKey means a sealed value was read without any key configured.
	ErrNoKey = errors.New("sealed value read without a record key")
)

type key struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
	// index computes blind indexes (HMAC-SHA-256 under the index key),
	// reused.
	index *macPool
}

// macPool reuses HMAC-SHA-256 states under one key: a blind index is
// computed on every turn that changes the answers.
type macPool struct{ pool sync.Pool }

func newMACPool(key []byte) *macPool {
	p := &macPool{}
	p.pool.New = func() any { return hmac.New(sha256.New, key) }
	return p
}

// Keys seals and opens values and computes blind indexes. A nil *Keys is
// the insecure mode (no key configured): Seal returns its input, Open reads
// only unsealed values, and indexes use a fixed, public key, so lookups
// still work but prove nothing.
type Keys struct {
	current *key
	byID    map[[keyIDSize]byte]*key
	all     []*key
}

// insecureIndex computes the blind indexes of the insecure mode, under a
// fixed, public key.
var insecureIndex = newMACPool([]byte("regbot insecure blind index: no record key configured"))

// New returns Keys that seal under current and open under current and old.
func New(current []byte, old ...[]byte) (*Keys, error) {
	k := &Keys{byID: map[[keyIDSize]byte]*key{}}
	for i, raw := range append([][]byte{current}, old...) {
		if len(raw) != KeySize {
			return nil, fmt.Errorf("record key %d: %d bytes, want %d", i, len(raw), KeySize)
		}
		kk, err := newKey(raw)
		if err != nil {
			return nil, err
		}
		if _, dup := k.byID[kk.id]; dup {
			continue
		}
		k.byID[kk.id] = kk
		k.all = append(k.all, kk)
	}
	k.current = k.all[0]
	return k, nil
}

func newKey(raw []byte) (*key, error) {
	derive := func(label string) []byte {
		mac := hmac.New(sha256.New, raw)
		mac.Write([]byte(label))
		return mac.Sum(nil)
	}
	block, err := aes.NewCipher(derive("regbot record encryption v1"))
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("record key: %w", err)
	}
	k := &key{aead: aead, index: newMACPool(derive("regbot record blind index v1"))}
	copy(k.id[:], derive("regbot record key id v1"))
	return k, nil
}

// ParseKey reads a key as configured: the standard base64 of 32 bytes or 64
// hex digits (openssl rand -base64 32 / -hex 32).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	return nil, fmt.Errorf("want the base64 of %d random bytes or 64 hex digits", KeySize)
}

// On reports whether values are sealed (a key is configured).
func (k *Keys) On() bool { return k != nil }

// Sealed reports whether b is sealed bytes.
func Sealed(b []byte) bool { return len(b) >= headerSize && b[0] == 0 && b[1] == version }

// SealedText reports whether s is a sealed value stored as text.
func SealedText(s string) bool { return strings.HasPrefix(s, TextPrefix) }

// Seal encrypts plain under the current key, bound to ad (the column and
// row it belongs to, so that it cannot be moved elsewhere). Without keys it
// returns plain. nil stays nil.
func (k *Keys) Seal(plain, ad []byte) []byte {
	if k == nil || plain == nil {
		return plain
	}
	return k.SealTo(make([]byte, 0, k.SealedSize(len(plain))), plain, ad)
}

// SealedSize is the length of n plain bytes sealed.
func (k *Keys) SealedSize(n int) int { return headerSize + n + k.current.aead.Overhead() }

// SealTo is Seal writing into dst's spare capacity (dst[:0] with at least
// SealedSize(len(plain)) of it does not allocate), for a caller that
// reuses buffers. Keys must not be nil.
func (k *Keys) SealTo(dst, plain, ad []byte) []byte {
	if cap(dst) < headerSize {
		dst = make([]byte, 0, k.SealedSize(len(plain)))
	}
	out := dst[:headerSize]
	out[0], out[1] = 0, version
	copy(out[2:], k.current.id[:])
	nonce := out[2+keyIDSize : headerSize]
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("seal: no randomness: %v", err))
	}
	return k.current.aead.Seal(out, nonce, plain, ad)
}

// Open returns the plain bytes of b: b itself when it is not sealed (a
// value written before encryption), else its decryption under the key that
// sealed it.
func (k *Keys) Open(b, ad []byte) ([]byte, error) {
	if !Sealed(b) {
		return b, nil
	}
	if k == nil {
		return nil, ErrNoKey
	}
	var id [keyIDSize]byte
	copy(id[:], b[2:])
	kk := k.byID[id]
	if kk == nil {
		return nil, ErrUnknownKey
	}
	plain, err := kk.aead.Open(nil, b[2+keyIDSize:headerSize], b[headerSize:], ad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// Current reports whether b is sealed under the current key (a rotation
// leaves the others to reseal).
func (k *Keys) Current(b []byte) bool {
	return k != nil && Sealed(b) && string(b[2:2+keyIDSize]) == string(k.current.id[:])
}

// SealText is Seal for a text column: TextPrefix and base64. Without keys
// it returns s.
func (k *Keys) SealText(s, ad string) string {
	if k == nil {
		return s
	}
	// One scratch buffer holds, in order, the additional data, the sealed
	// bytes (sealed in place over the plain text) and their text form; only
	// the returned string is allocated.
	bp := scratch.Get().(*[]byte)
	sealedLen := k.SealedSize(len(s))
	total := len(ad) + sealedLen + len(TextPrefix) + base64.RawStdEncoding.EncodedLen(sealedLen)
	buf := *bp
	if cap(buf) < total {
		buf = make([]byte, 0, total)
	}
	buf = append(buf[:0], ad...)
	adb := buf[:len(ad)]
	head := buf[len(ad) : len(ad)+headerSize]
	head[0], head[1] = 0, version
	copy(head[2:], k.current.id[:])
	nonce := head[2+keyIDSize:]
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("seal: no randomness: %v", err))
	}
	plain := append(head, s...)[headerSize:]
	sealed := k.current.aead.Seal(head, nonce, plain, adb)
	text := append(sealed[len(sealed):], TextPrefix...)
	out := string(base64.RawStdEncoding.AppendEncode(text, sealed))
	if cap(buf) <= 64<<10 {
		*bp = buf[:0]
		scratch.Put(bp)
	}
	return out
}

// scratch are SealText's buffers.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// OpenText is Open for a text column.
func (k *Keys) OpenText(s, ad string) (string, error) {
	if !SealedText(s) {
		return s, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s[len(TextPrefix):])
	if err != nil || !Sealed(b) {
		return "", ErrCorrupt
	}
	plain, err := k.Open(b, []byte(ad))
	return string(plain), err
}

// CurrentText is Current for a text column.
func (k *Keys) CurrentText(s string) bool {
	if !SealedText(s) {
		return false
	}
	b, err := base64.RawStdEncoding.DecodeString(s[len(TextPrefix):])
	return err == nil && k.Current(b)
}

// Index is the blind index of value as field under the current key: equal
// values give equal indexes, and without the key nobody can tell which
// value an index stands for (nor confirm a guess).
func (k *Keys) Index(field, value string) []byte {
	p := insecureIndex
	if k != nil {
		p = k.current.index
	}
	return p.index(field, value)
}

// Indexes are the blind indexes of value under every key, current first: a
// lookup matches any of them, so rows indexed before a rotation are found.
func (k *Keys) Indexes(field, value string) [][]byte {
	if k == nil {
		return [][]byte{insecureIndex.index(field, value)}
	}
	out := make([][]byte, len(k.all))
	for i, kk := range k.all {
		out[i] = kk.index.index(field, value)
	}
	return out
}

// index is the blind index of value as field: the first 16 bytes of
// HMAC-SHA-256(field NUL value).
func (p *macPool) index(field, value string) []byte {
	mac := p.pool.Get().(hash.Hash)
	mac.Reset()
	io.WriteString(mac, field)
	mac.Write([]byte{0})
	io.WriteString(mac, value)
	sum := mac.Sum(make([]byte, 0, sha256.Size))[:16]
	p.pool.Put(mac)
	return sum
}
