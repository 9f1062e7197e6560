package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// SessionBinary is the first byte of a session snapshot in dialogs'
// compact encoding (dialogs/sessioncodec.go); a snapshot starting with '{'
// is the JSON form every session was written in before it. The compact
// form's first field is the payment URL, a uvarint length and its bytes,
// so the store reads it without knowing the rest.
const SessionBinary = 0x02

// SessionPaymentURL returns the payment page a session snapshot holds, ""
// when none. It is the one place outside dialogs that reads a session.
func SessionPaymentURL(snap []byte) (string, error) {
	if len(snap) == 0 {
		return "", nil
	}
	switch snap[0] {
	case SessionBinary:
		n, w := binary.Uvarint(snap[1:])
		if w <= 0 || n > uint64(len(snap)-1-w) {
			return "", errors.New("session snapshot: truncated")
		}
		return string(snap[1+w : 1+w+int(n)]), nil
	default:
		var v struct {
			PaymentURL string `json:"payment_url"`
		}
		if err := json.Unmarshal(snap, &v); err != nil {
			return "", fmt.Errorf("session snapshot: %w", err)
		}
		return v.PaymentURL, nil
	}
}
