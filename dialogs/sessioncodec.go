package dialogs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"regbot/store"
)

// sessionBinary is the first byte of the compact session encoding. The
// JSON form (every session written before it) starts with '{'; any other
// first byte is an unknown encoding and refused.
//
// The compact form is the byte, then the fields in the order encodeSession
// writes them: strings and lists are a uvarint length and their contents,
// ints are varints, the booleans one bit each of a uvarint, times
// time.Time's binary form. PaymentURL comes first: store.SessionPaymentURL
// reads it without knowing the rest.
const sessionBinary = store.SessionBinary

// Flag bits of the compact encoding.
const (
	flagWelcomed = 1 << iota
	flagWorkDone
	flagHelp
	flagDecided
	flagChecklistShown
	flagMaterialsReminder
	flagDraft
	flagPending
	flagHandover
	flagQuestions
	flagSoon
	flagFailures
)

// Answer value tags.
const (
	answerNil = iota
	answerFalse
	answerTrue
	answerNumber
	answerString
)

// errAnswerType: an answer of a type the compact form does not carry; the
// session is written as JSON instead.
var errAnswerType = errors.New("answer type")

func encodeSession(s *Session) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, sessionBinary)
	b = appendString(b, s.PaymentURL)
	for _, v := range []string{s.PlanID, s.Channel, s.UserID, s.Step, s.Condition, s.Reason, string(s.Status)} {
		b = appendString(b, v)
	}
	for _, v := range []int{s.Version, s.Fails, s.EditWork, s.Escalations, s.Reminders} {
		b = binary.AppendVarint(b, int64(v))
	}
	var flags uint64
	for i, on := range []bool{s.Welcomed, s.WorkDone, s.Help, s.Decided, s.ChecklistShown, s.MaterialsReminder,
		s.Draft != nil, s.Pending != nil, s.Handover != nil, s.Questions != nil, s.Soon != nil, s.Failures != nil} {
		if on {
			flags |= 1 << i
		}
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(len(s.Answers)))
	for _, k := range sortedKeys(s.Answers) {
		b = appendString(b, k)
		switch v := s.Answers[k].(type) {
		case nil:
			b = append(b, answerNil)
		case bool:
			if v {
				b = append(b, answerTrue)
			} else {
				b = append(b, answerFalse)
			}
		case float64:
			b = binary.LittleEndian.AppendUint64(append(b, answerNumber), math.Float64bits(v))
		case int:
			b = binary.LittleEndian.AppendUint64(append(b, answerNumber), math.Float64bits(float64(v)))
		case string:
			b = appendString(append(b, answerString), v)
		default:
			return nil, fmt.Errorf("%w %T", errAnswerType, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.Work)))
	for i := range s.Work {
		b = appendWork(b, &s.Work[i])
	}
	if s.Draft != nil {
		b = appendWork(b, s.Draft)
	}
	b = appendStrings(b, s.Trail)
	b = appendStrings(b, s.Fix)
	if p := s.Pending; p != nil {
		for _, v := range []string{string(p.Kind), p.Value, p.Material, p.Hash, string(p.Print)} {
			b = appendString(b, v)
		}
		b = binary.AppendUvarint(b, uint64(len(p.Choices)))
		for _, c := range p.Choices {
			b = appendString(appendString(b, c.ID), c.Label)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.Materials)))
	for _, k := range sortedKeys(s.Materials) {
		m := s.Materials[k]
		for _, v := range []string{k, m.Ref, m.Hash, string(m.Print)} {
			b = appendString(b, v)
		}
		b = appendBool(b, m.Escalated)
	}
	var err error
	for _, t := range []*TicketRef{s.Handover, s.Questions} {
		if b, err = appendTicket(b, t); err != nil {
			return nil, err
		}
	}
	if f := s.Soon; f != nil {
		b = appendBool(appendBool(appendString(appendString(b, f.Condition), f.Month), f.Reminder), f.Declined)
	}
	// Failures came after Soon in the format: older sessions end there.
	return appendTicket(b, s.Failures)
}

// appendTicket appends a ticket reference (nothing for nil: the flags say
// which are there).
func appendTicket(b []byte, t *TicketRef) ([]byte, error) {
	if t == nil {
		return b, nil
	}
	var err error
	b = appendString(b, t.Code)
	if b, err = appendTime(b, t.Since); err != nil {
		return nil, err
	}
	return appendTime(b, t.AckedAt)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendWork(b []byte, w *store.WorkEntry) []byte {
	b = appendString(appendString(b, w.Employer), w.Occupation)
	b = appendBool(b, w.Related)
	return appendString(appendString(b, w.Start), w.End)
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	tb, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return append(binary.AppendUvarint(b, uint64(len(tb))), tb...), nil
}

// sessionReader reads the compact encoding. Its strings share one copy of
// the data (one allocation for all of them).
type sessionReader struct {
	data string
	pos  int
	err  error
}

var errShort = errors.New("truncated")

func (r *sessionReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if r.pos >= len(r.data) {
			r.err = errShort
			return 0
		}
		c := r.data[r.pos]
		r.pos++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.err = errors.New("bad varint")
	return 0
}

func (r *sessionReader) int() int {
	u := r.uvarint()
	return int(int64(u>>1) ^ -int64(u&1))
}

// count reads a length, refusing one longer than the bytes left.
func (r *sessionReader) count() int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.data)-r.pos) {
		r.err = errShort
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *sessionReader) string() string {
	n := r.count()
	s := r.data[r.pos : r.pos+n]
	r.pos += n
	return s
}

func (r *sessionReader) byte() byte {
	if r.err == nil && r.pos >= len(r.data) {
		r.err = errShort
	}
	if r.err != nil {
		return 0
	}
	c := r.data[r.pos]
	r.pos++
	return c
}

func (r *sessionReader) bool() bool { return r.byte() == 1 }

func (r *sessionReader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.string()
	}
	return out
}

func (r *sessionReader) work(w *store.WorkEntry) {
	w.Employer, w.Occupation = r.string(), r.string()
	w.Related = r.bool()
	w.Start, w.End = r.string(), r.string()
}

func (r *sessionReader) time() time.Time {
	var t time.Time
	if b := r.string(); r.err == nil {
		r.err = t.UnmarshalBinary([]byte(b))
	}
	return t
}

func (r *sessionReader) ticket() *TicketRef {
	t := &TicketRef{Code: r.string()}
	t.Since = r.time()
	t.AckedAt = r.time()
	return t
}

func decodeSession(data []byte) (*Session, error) {
	r := &sessionReader{data: string(data), pos: 1}
	s := &Session{PaymentURL: r.string()}
	s.PlanID, s.Channel, s.UserID, s.Step = r.string(), r.string(), r.string(), r.string()
	s.Condition, s.Reason, s.Status = r.string(), r.string(), store.Status(r.string())
	s.Version, s.Fails, s.EditWork, s.Escalations, s.Reminders = r.int(), r.int(), r.int(), r.int(), r.int()
	flags := r.uvarint()
	s.Welcomed, s.WorkDone, s.Help = flags&flagWelcomed != 0, flags&flagWorkDone != 0, flags&flagHelp != 0
	s.Decided, s.ChecklistShown = flags&flagDecided != 0, flags&flagChecklistShown != 0
	s.MaterialsReminder = flags&flagMaterialsReminder != 0
	n := r.count()
	s.Answers = make(map[string]any, n)
	for range n {
		k := r.string()
		switch tag := r.byte(); tag {
		case answerNil:
			s.Answers[k] = nil
		case answerFalse, answerTrue:
			s.Answers[k] = tag == answerTrue
		case answerNumber:
			if r.err == nil && len(r.data)-r.pos < 8 {
				r.err = errShort
			}
			if r.err == nil {
				s.Answers[k] = math.Float64frombits(binary.LittleEndian.Uint64([]byte(r.data[r.pos : r.pos+8])))
				r.pos += 8
			}
		case answerString:
			s.Answers[k] = r.string()
		default:
			if r.err == nil {
				r.err = fmt.Errorf("answer %q: tag %d", k, tag)
			}
		}
	}
	if n := r.count(); n > 0 {
		s.Work = make([]store.WorkEntry, n)
		for i := range s.Work {
			r.work(&s.Work[i])
		}
	}
	if flags&flagDraft != 0 {
		s.Draft = &store.WorkEntry{}
		r.work(s.Draft)
	}
	s.Trail, s.Fix = r.strings(), r.strings()
	if flags&flagPending != 0 {
		p := &Pending{Kind: PendingKind(r.string())}
		p.Value, p.Material, p.Hash, p.Print = r.string(), r.string(), r.string(), store.ImageHash(r.string())
		if n := r.count(); n > 0 {
			p.Choices = make([]Choice, n)
			for i := range p.Choices {
				p.Choices[i] = Choice{ID: r.string(), Label: r.string()}
			}
		}
		s.Pending = p
	}
	if n := r.count(); n > 0 {
		s.Materials = make(map[string]MaterialState, n)
		for range n {
			k := r.string()
			m := MaterialState{Ref: r.string(), Hash: r.string(), Print: store.ImageHash(r.string())}
			m.Escalated = r.bool()
			s.Materials[k] = m
		}
	}
	if flags&flagHandover != 0 {
		s.Handover = r.ticket()
	}
	if flags&flagQuestions != 0 {
		s.Questions = r.ticket()
	}
	if flags&flagSoon != 0 {
		s.Soon = &Forecast{Condition: r.string(), Month: r.string()}
		s.Soon.Reminder, s.Soon.Declined = r.bool(), r.bool()
	}
	if flags&flagFailures != 0 {
		s.Failures = r.ticket()
	}
	if r.err == nil && r.pos != len(r.data) {
		r.err = fmt.Errorf("%d bytes after the session", len(r.data)-r.pos)
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

// sortedKeys returns m's keys in order, in one allocation
// (slices.Sorted(maps.Keys(m)) grows its slice a few times).
func sortedKeys[V any](m map[string]V) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
