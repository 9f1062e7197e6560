package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so the parameters travel with the
// hash and can be raised later without invalidating old ones. The defaults
// are OWASP's (19 MiB, 2 passes, 1 lane: about 50 ms here).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password rules: long enough to resist guessing, short enough that a
// hash of it is cheap to compute.
const (
	MinPasswordRunes = 10
	maxPasswordBytes = 256
)

// ErrWeakPassword is a password the console refuses to set.
var ErrWeakPassword = fmt.Errorf("a password needs at least %d characters (at most %d bytes)", MinPasswordRunes, maxPasswordBytes)

// CheckPasswordRules reports whether pw may be set as a password.
func CheckPasswordRules(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordRunes || len(pw) > maxPasswordBytes {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword returns the argon2id hash of pw in PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("not an argon2id hash")

// CheckPassword reports whether pw matches the encoded hash. An empty or
// malformed hash matches nothing.
func CheckPassword(encoded, pw string) bool {
	if len(pw) > maxPasswordBytes {
		return false
	}
	salt, want, mem, passes, threads, err := parseHash(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, passes, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func parseHash(encoded string) (salt, key []byte, mem, passes uint32, threads uint8, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return nil, nil, 0, 0, 0, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return nil, nil, 0, 0, 0, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil ||
		mem < 8 || mem > 1<<22 || passes < 1 || passes > 16 || threads < 1 {
		return nil, nil, 0, 0, 0, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return nil, nil, 0, 0, 0, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return nil, nil, 0, 0, 0, errBadHash
	}
	return salt, key, mem, passes, threads, nil
}

// dummyHash is checked against when a login does not exist, so that an
// unknown login takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("regbot-no-such-user") // an error leaves "": no match, a little faster
	return h
})
