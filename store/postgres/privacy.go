package postgres

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"regbot/store"
	"regbot/store/seal"
)

// Option configures a Store.
type Option func(*Store)

// WithKeys seals personal data at rest under keys (docs/privacy.md): the
// sensitive answers (with a blind index for the lookup keys), the session
// snapshot, what candidates said (inbound_messages.text,
// ticket_messages.text), document blob references and perceptual hashes.
// Without it (nil keys) nothing is sealed: the insecure mode of a
// development database.
func WithKeys(keys *seal.Keys) Option { return func(s *Store) { s.keys = keys } }

// WithSensitive sets the answer keys whose values are sealed in
// applications.answers: the plan's sensitive slots. The lookup keys
// (store.LookupIDNumber, store.LookupMobile) are always among them.
func WithSensitive(keys ...string) Option {
	return func(s *Store) {
		s.sensitive = slices.Clone(defaultSensitive)
		for _, k := range keys {
			if !slices.Contains(s.sensitive, k) {
				s.sensitive = append(s.sensitive, k)
			}
		}
	}
}

// defaultSensitive are the answers sealed whatever the plan says: the ones
// staff and the status import look candidates up by.
var defaultSensitive = []string{string(store.LookupIDNumber), string(store.LookupMobile)}

// The additional data of each sealed column: a value cannot be moved to
// another column and still open.
const (
	adSnapshot    = "applications.snapshot"
	adAnswerPre   = "applications.answers."
	adInbound     = "inbound_messages.text"
	adTicketText  = "ticket_messages.text"
	adTicketImage = "ticket_messages.image_ref"
	adBlobRef     = "documents.blob_ref"
	adPHash       = "documents.phash"
)

// adSnapshotBytes is adSnapshot, converted once (the snapshot is sealed on
// most turns).
var adSnapshotBytes = []byte(adSnapshot)

// sealedTurn is what RecordTurn writes of a turn's personal data.
type sealedTurn struct {
	answers []byte // the answers' JSON, sensitive values sealed
	// idNumber and mobile are the blind indexes of the lookup answers.
	idNumber, mobile []byte
	session          []byte
	// buf holds session's bytes when they are a pooled buffer.
	buf *[]byte
}

// sealBuffers are buffers for sealed snapshots (a few KB each turn), reused
// once the turn's batch has been sent: pgx copies the arguments into its
// own buffer when it sends them.
var sealBuffers = sync.Pool{New: func() any { return new([]byte) }}

// release returns the sealed snapshot's buffer to the pool; the turn's
// batch must be done with it.
func (st sealedTurn) release() {
	if st.buf != nil && cap(*st.buf) <= 64<<10 {
		*st.buf = (*st.buf)[:0]
		sealBuffers.Put(st.buf)
	}
}

// sealTurn fills st with t as the record keeps it (personal data sealed)
// and returns the answers' JSON; t itself is left as it is. st is the
// caller's, so that the copy stays on its stack.
func (s *Store) sealTurn(t, st *store.Turn) (sealedTurn, error) {
	*st = *t
	var out sealedTurn
	if !t.KeepAnswers {
		answers := orEmpty(t.Answers)
		out.idNumber = s.answerIndex(answers, store.LookupIDNumber)
		out.mobile = s.answerIndex(answers, store.LookupMobile)
		var err error
		if out.answers, err = json.Marshal(s.sealAnswers(answers)); err != nil {
			return out, fmt.Errorf("answers: %w", err)
		}
	}
	if s.keys == nil {
		out.session = t.Session
		return out, nil
	}
	if t.Session != nil {
		// The buffer goes back to the pool once the batch is sent
		// (releaseTurn).
		buf := sealBuffers.Get().(*[]byte)
		if need := s.keys.SealedSize(len(t.Session)); cap(*buf) < need {
			*buf = make([]byte, 0, need)
		}
		out.session = s.keys.SealTo(*buf, t.Session, adSnapshotBytes)
		out.buf = buf
	}
	st.Inbound = s.keys.SealText(t.Inbound, adInbound)
	if len(t.Documents) > 0 {
		st.Documents = slices.Clone(t.Documents)
		for i := range st.Documents {
			st.Documents[i] = s.sealDocument(st.Documents[i])
		}
	}
	if len(t.Escalations) > 0 {
		st.Escalations = slices.Clone(t.Escalations)
		for i := range st.Escalations {
			st.Escalations[i].Text = s.sealNonEmpty(st.Escalations[i].Text, adTicketText)
		}
	}
	if len(t.Tickets) > 0 {
		st.Tickets = slices.Clone(t.Tickets)
		for i := range st.Tickets {
			st.Tickets[i].Text = s.sealNonEmpty(st.Tickets[i].Text, adTicketText)
			st.Tickets[i].ImageRef = s.sealNonEmpty(st.Tickets[i].ImageRef, adTicketImage)
		}
	}
	return out, nil
}

// sealNonEmpty seals a text column whose empty value means "none".
func (s *Store) sealNonEmpty(v, ad string) string {
	if v == "" {
		return ""
	}
	return s.keys.SealText(v, ad)
}

// sealDocument seals a document's blob reference and perceptual hash: with
// them and a photo, anyone could tell that the photo is stored.
func (s *Store) sealDocument(d store.Document) store.Document {
	d.BlobRef = s.keys.SealText(d.BlobRef, adBlobRef)
	if d.PHash != "" {
		d.PHash = store.ImageHash(s.keys.SealText(string(d.PHash), adPHash))
	}
	return d
}

// sealAnswers returns answers with the sensitive values sealed (a copy when
// any is; answers itself is not changed).
func (s *Store) sealAnswers(answers map[string]any) map[string]any {
	if s.keys == nil {
		return answers
	}
	var out map[string]any
	for _, k := range s.sensitiveKeys() {
		v, ok := answers[k].(string)
		if !ok || seal.SealedText(v) {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(answers))
			for k, v := range answers {
				out[k] = v
			}
		}
		out[k] = s.keys.SealText(v, adAnswerPre+k)
	}
	if out == nil {
		return answers
	}
	return out
}

// openAnswers opens the sealed values of answers in place.
func (s *Store) openAnswers(answers map[string]any) error {
	for k, v := range answers {
		text, ok := v.(string)
		if !ok || !seal.SealedText(text) {
			continue
		}
		plain, err := s.keys.OpenText(text, adAnswerPre+k)
		if err != nil {
			return fmt.Errorf("answer %s: %w", k, err)
		}
		answers[k] = plain
	}
	return nil
}

func (s *Store) sensitiveKeys() []string {
	if s.sensitive == nil {
		return defaultSensitive
	}
	return s.sensitive
}

// answerIndex is the blind index of a lookup answer, nil when it is not
// given.
func (s *Store) answerIndex(answers map[string]any, key store.LookupKey) []byte {
	v, ok := answers[string(key)].(string)
	if !ok || v == "" {
		return nil
	}
	return s.keys.Index(string(key), v)
}

// openText opens a sealed text column (a text written before encryption is
// returned as it is).
func (s *Store) openText(v, ad string) (string, error) {
	plain, err := s.keys.OpenText(v, ad)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ad, err)
	}
	return plain, nil
}

// openSnapshot opens a sealed session snapshot.
func (s *Store) openSnapshot(b []byte) ([]byte, error) {
	plain, err := s.keys.Open(b, []byte(adSnapshot))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", adSnapshot, err)
	}
	return plain, nil
}

// openDocument opens a document's sealed blob reference and perceptual
// hash.
func (s *Store) openDocument(d *store.DocumentRecord) error {
	var err error
	if d.BlobRef, err = s.openText(d.BlobRef, adBlobRef); err != nil {
		return err
	}
	ph, err := s.openText(string(d.PHash), adPHash)
	d.PHash = store.ImageHash(ph)
	return err
}
