package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a channel may hand to the Router and the stores. Real
// platforms stay far below them (a WeChat OpenID is 28 bytes, a Telegram
// chat id at most 20, a web visitor id 32); anything longer is hostile.
const (
	// MaxChannelBytes bounds Identity.Channel.
	MaxChannelBytes = 32
	// MaxUserIDBytes bounds Identity.UserID.
	MaxUserIDBytes = 128
	// MaxMsgIDBytes bounds a message id (WeChat event ids hold the OpenID,
	// the event key and a time).
	MaxMsgIDBytes = 512
	// MaxRecordedTextBytes bounds a message's text as the record keeps it:
	// a longer text (only a hostile client sends one; the platforms'
	// limits are a few thousand characters) is kept truncated, with a
	// marker saying how long it was.
	MaxRecordedTextBytes = 64 << 10
)

// ErrBadInput means input from outside (a channel, a staff request) is not
// acceptable as it is: an identity or message id that is empty, too long,
// or holds NUL or invalid UTF-8. The same input fails again, so it is
// refused (HTTP 400), never retried.
var ErrBadInput = errors.New("bad input")

// ErrRefused means the record refused the data of a write itself (a value
// it cannot store, a constraint the data breaks): the same write fails
// again, unlike a database that is down or a conflict with another
// writer. A turn refused this way is recorded as failed, not retried.
var ErrRefused = errors.New("refused by the record")

// Check reports whether id may be used as a key: a channel and a user id,
// each non-empty, within MaxChannelBytes and MaxUserIDBytes, valid UTF-8
// without control characters. The error wraps ErrBadInput.
func (id Identity) Check() error {
	if err := checkKey("channel", id.Channel, MaxChannelBytes); err != nil {
		return err
	}
	return checkKey("user id", id.UserID, MaxUserIDBytes)
}

// CheckMsgID reports whether a message id is acceptable: empty (no
// de-duplication), or within MaxMsgIDBytes of valid UTF-8 without control
// characters. The error wraps ErrBadInput.
func CheckMsgID(msgID string) error {
	if msgID == "" {
		return nil
	}
	return checkKey("message id", msgID, MaxMsgIDBytes)
}

func checkKey(what, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s", ErrBadInput, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s of %d bytes (at most %d)", ErrBadInput, what, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not UTF-8", ErrBadInput, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: control character in %s", ErrBadInput, what)
		}
	}
	return nil
}

// CleanText makes text from outside safe to store and to match: invalid
// UTF-8 sequences and NUL (which PostgreSQL cannot store in text) become
// U+FFFD; other characters, line breaks included, are kept.
func CleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// RecordedText is text as the record keeps it: cleaned (CleanText) and, past
// MaxRecordedTextBytes, cut at a character boundary with a marker saying
// how many bytes it had.
func RecordedText(s string) string {
	s = CleanText(s)
	if len(s) <= MaxRecordedTextBytes {
		return s
	}
	cut := MaxRecordedTextBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated: " + strconv.Itoa(len(s)) + " bytes in all]"
}
