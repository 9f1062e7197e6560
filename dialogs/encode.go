package dialogs

import (
	"encoding/json"
	"errors"
	"fmt"
)

// encodedVersion is the version of EncodeMessages' form.
const encodedVersion = 1

// encoded is the outbox form of bot messages.
type encoded struct {
	V        int        `json:"v"`
	Messages []Outbound `json:"m"`
}

// ErrImageWithoutRef is returned by EncodeMessages for an image that is not
// in the blob store: the outbox keeps references, never image bytes.
var ErrImageWithoutRef = errors.New("image without a blob reference")

// EncodeMessages returns the channel-neutral, durable form of msgs, as the
// outbox stores them (store.Outgoing.Payload). Images must carry a Ref.
func EncodeMessages(msgs []Outbound) ([]byte, error) {
	for _, m := range msgs {
		if m.Image != nil && m.Image.Ref == "" {
			return nil, fmt.Errorf("encode messages: %w", ErrImageWithoutRef)
		}
	}
	data, err := json.Marshal(encoded{V: encodedVersion, Messages: msgs})
	if err != nil {
		return nil, fmt.Errorf("encode messages: %w", err)
	}
	return data, nil
}

// EncodeMessage is the form of one message inside EncodeMessages': a
// caller that stores the same messages in several groups encodes each once
// and joins them with JoinEncoded.
func EncodeMessage(m Outbound) ([]byte, error) {
	if m.Image != nil && m.Image.Ref == "" {
		return nil, fmt.Errorf("encode messages: %w", ErrImageWithoutRef)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode messages: %w", err)
	}
	return data, nil
}

// JoinEncoded is EncodeMessages of the messages whose EncodeMessage forms
// parts holds, in order; nil for none.
func JoinEncoded(parts ...[]byte) []byte {
	if len(parts) == 0 {
		return nil
	}
	const head, tail = `{"v":1,"m":[`, `]}`
	n := len(head) + len(tail) + len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	out = append(out, head...)
	for i, p := range parts {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, p...)
	}
	return append(out, tail...)
}

// DecodeMessages reads what EncodeMessages wrote. Images come back with
// their Ref only; the sender loads the bytes from the blob store.
func DecodeMessages(data []byte) ([]Outbound, error) {
	var e encoded
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode messages: %w", err)
	}
	if e.V != encodedVersion {
		return nil, fmt.Errorf("decode messages: version %d, want %d", e.V, encodedVersion)
	}
	return e.Messages, nil
}
