package dialogs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"regbot/store"
)

// fileID identifies an uploaded file: its bytes (SHA-256) and its picture
// (the perceptual hash the Inspector computes).
type fileID struct {
	hash  string
	print store.ImageHash
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fileHash identifies an upload's bytes: the blob store's keyed ref when it
// has one (blob.Dir.Ref), so that the session (cached in Redis, kept in the
// record) holds no plain content hash by which a photo could be
// recognised; else the SHA-256.
func (e *Engine) fileHash(data []byte) string {
	if r, ok := e.opts.Blobs.(interface{ Ref(data []byte) string }); ok {
		return r.Ref(data)
	}
	return sha(data)
}

// duplicateOf returns the other material already accepted with the same
// file (or a near-identical one): one photo cannot be both sides of the ID
// card, nor both the 申报表 and a 承诺书.
func (e *Engine) duplicateOf(s *Session, key string, id fileID) (string, bool) {
	for _, other := range e.plan.Materials {
		st, ok := s.Materials[other.Key]
		if other.Key == key || !ok || st.Ref == "" {
			continue
		}
		if st.Hash == id.hash {
			return other.Key, true
		}
		if st.Print.Near(id.print) {
			return other.Key, true
		}
	}
	return "", false
}

// image handles an image the candidate sent, whatever was asked: at an
// upload step it is that material; while a photo fix is offered it is a
// new photo; anywhere else it is kept and the candidate is asked which
// material it is.
func (e *Engine) image(t *turn) error {
	s := t.s
	if p := s.Pending; p != nil && (p.Kind == PendingFixOffer || p.Kind == PendingFixConfirm) {
		s.Pending = nil
		return e.upload(t, p.Material)
	}
	if st, ok := e.parseStep(s.Step); ok && st.material != "" && (s.Pending == nil || s.Pending.Kind != PendingWhich) {
		s.Pending = nil
		return e.upload(t, st.material)
	}
	data := t.in.Image.Data
	// Its material is not known yet: kept encrypted, so nothing a
	// candidate sent is lost whatever it turns out to be.
	ref, err := e.opts.Blobs.Put(t.ctx, data, true)
	if err != nil {
		return fmt.Errorf("store image: %w", err)
	}
	t.res.ImageRef = ref
	choices := e.whichChoices(s)
	if len(choices) == 0 {
		t.say(e.text("image_kept"))
		e.ask(t)
		return nil
	}
	s.Pending = &Pending{Kind: PendingWhich, Value: ref, Hash: e.fileHash(data), Choices: choices}
	e.ask(t)
	return nil
}

// whichChoices are the materials an image may be: those still missing
// (every needed one when none is), or before a condition is chosen those
// every condition needs.
func (e *Engine) whichChoices(s *Session) []Choice {
	var keys []string
	switch {
	case !s.Decided:
		for i, c := range e.plan.Conditions {
			if i == 0 {
				keys = append(keys, c.Materials...)
				continue
			}
			keys = slicesFilter(keys, func(k string) bool { return contains(c.Materials, k) })
		}
		keys = slicesFilter(keys, func(k string) bool { return s.Materials[k].Ref == "" })
	case s.Condition == "":
		return nil
	default:
		if keys = e.missingMaterials(s); len(keys) == 0 {
			keys = e.needed(s)
		}
	}
	var out []Choice
	for _, k := range keys {
		m, _ := e.plan.Material(k)
		out = append(out, Choice{ID: materialPrefix + k, Label: m.Name})
	}
	return out
}

func slicesFilter(list []string, keep func(string) bool) []string {
	var out []string
	for _, s := range list {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// answerWhich takes the material the candidate says an image is (or, with
// no image waiting, the material they want to send next). Any other text
// drops the question and is read as usual.
func (e *Engine) answerWhich(t *turn) error {
	s := t.s
	p := s.Pending
	id, ok := pickChoice(t.in, p.Choices)
	if !ok {
		s.Pending = nil
		if t.in.Choice != "" {
			e.ask(t)
			return nil
		}
		return e.answer(t)
	}
	key := strings.TrimPrefix(id, materialPrefix)
	s.Pending = nil
	if p.Value == "" {
		s.Step = uploadPrefix + key
		e.ask(t)
		return nil
	}
	data, err := e.opts.Blobs.Get(t.ctx, p.Value)
	if err != nil {
		return fmt.Errorf("read image: %w", err)
	}
	return e.check(t, key, data, p.Value, p.Hash)
}

// otherMaterial offers the other materials still missing, to send one of
// them before the one asked (no image has come: the question is which one
// the candidate wants to send, not which one a picture is).
func (e *Engine) otherMaterial(t *turn) {
	var choices []Choice
	asked := ""
	if st, ok := e.parseStep(t.s.Step); ok {
		asked = st.material
	}
	for _, k := range e.missingMaterials(t.s) {
		if k == asked {
			continue
		}
		m, _ := e.plan.Material(k)
		choices = append(choices, Choice{ID: materialPrefix + k, Label: m.Name})
	}
	t.s.Pending = &Pending{Kind: PendingWhich, Choices: choices}
	e.ask(t)
}

// materialNamed returns the needed material a text names (its name or an
// alias; the longest wins, so 个人工作经历承诺书 is not 工作经历承诺书), or
// the only needed material whose name holds the text ("承诺书" when the
// condition needs one).
func (e *Engine) materialNamed(s *Session, text string) (string, bool) {
	n := normalized(text)
	best, bestLen := "", 0
	part, parts := "", 0
	for _, k := range e.needed(s) {
		m, _ := e.plan.Material(k)
		holds := false
		for _, name := range append([]string{m.Name}, m.Aliases...) {
			w := normalized(name)
			if w != "" && strings.Contains(n, w) && len(w) > bestLen {
				best, bestLen = k, len(w)
			}
			holds = holds || utf8.RuneCountInString(n) >= 2 && strings.Contains(w, n)
		}
		if holds {
			part, parts = k, parts+1
		}
	}
	if best == "" && parts == 1 {
		best = part
	}
	return best, best != ""
}

// uploadText handles text at an upload step: another material chosen or
// named, "I will send it later", a person; anything else is reminded that
// an image is expected.
func (e *Engine) uploadText(t *turn, key string) error {
	s := t.s
	own := []Choice{}
	if len(e.missingMaterials(s)) > 1 {
		own = append(own, e.choice(choiceOther, "label_other_material"))
	}
	if id, ok := pickChoice(t.in, append(own, e.extraChoices(s)...)); ok {
		if id == choiceHuman {
			return e.runCommand(t, cmdHuman)
		}
		e.otherMaterial(t)
		return nil
	}
	if other, ok := e.materialNamed(s, t.in.Text); ok {
		s.Step = uploadPrefix + other
		s.Fails, s.Help = 0, false
		e.ask(t)
		return nil
	}
	if e.words.later(t.in.Text) {
		if err := e.queueMaterialsReminder(t); err != nil {
			return err
		}
		t.say(e.text("later_ok", "days", strconv.Itoa(materialsReminderDays)))
		e.remindMissing(t)
		e.ask(t)
		return nil
	}
	m, _ := e.plan.Material(key)
	return e.fail(t, e.text("expect_image", "material", m.Name))
}

// materialsReminderDays is how long after "I will send it later" the
// candidate is reminded of what is missing (at reminderHour, China time).
const materialsReminderDays = 3

// queueMaterialsReminder queues a reminder of the missing materials, once:
// an accepted upload cancels it, since what it lists has changed.
func (e *Engine) queueMaterialsReminder(t *turn) error {
	s := t.s
	missing := e.missingMaterials(s)
	if s.MaterialsReminder || len(missing) == 0 {
		return nil
	}
	payload, err := EncodeMessages([]Outbound{{Text: e.text("materials_reminder",
		"count", count(len(missing)), "missing", e.materialNames(missing))}})
	if err != nil {
		return err
	}
	day := t.now.AddDate(0, 0, materialsReminderDays)
	due := time.Date(day.Year(), day.Month(), day.Day(), reminderHour, 0, 0, 0, ChinaTime)
	s.Reminders++
	t.res.Outbox = append(t.res.Outbox, store.Outgoing{
		Identity: s.Identity(), Kind: store.OutReminder, Payload: payload, NotBefore: due,
		Key: fmt.Sprintf("reminder:%s:%s:%d", s.Identity().Key(), s.PlanID, s.Reminders),
	})
	s.MaterialsReminder = true
	return nil
}

// upload takes the inbound image as material key.
func (e *Engine) upload(t *turn, key string) error {
	m, _ := e.plan.Material(key)
	data := t.in.Image.Data
	ref, err := e.opts.Blobs.Put(t.ctx, data, m.Sensitive)
	if err != nil {
		return fmt.Errorf("store upload: %w", err)
	}
	t.res.ImageRef = ref
	return e.check(t, key, data, ref, e.fileHash(data))
}

// check checks a stored image (its SHA-256 is hash) as material key and
// either accepts it, offers to fix a photo, or says what to fix and asks
// again. The same picture as another material is refused first.
func (e *Engine) check(t *turn, key string, data []byte, ref, hash string) error {
	s := t.s
	m, _ := e.plan.Material(key)
	onStep := s.Step == uploadPrefix+key
	insp := e.opts.Inspector.Inspect(t.ctx, m, data, e.facts(t))
	id := fileID{hash: hash, print: insp.Hash}
	if other, dup := e.duplicateOf(s, key, id); dup {
		om, _ := e.plan.Material(other)
		msg := e.text("duplicate_file", "material", om.Name)
		insp.Problems = []string{msg}
		doc := e.document(t, key, ref, insp)
		t.emit(Event{Kind: EventMaterial, Document: &doc})
		return e.refuse(t, onStep, msg)
	}
	doc := e.document(t, key, ref, insp)
	t.emit(Event{Kind: EventMaterial, Document: &doc})
	if len(insp.Problems) == 0 {
		e.accept(t, key, ref, id, insp.Reminder, onStep)
		return nil
	}
	if insp.Fixable && m.Checks.Fixable && e.opts.Fixer != nil && e.canFix(t.ctx, m, data) {
		t.say(strings.Join(insp.Problems, "\n"))
		s.Pending = &Pending{Kind: PendingFixOffer, Value: ref, Material: key, Hash: id.hash, Print: id.print, Choices: []Choice{
			e.choice(choiceFix, "label_fix"),
			e.choice(choiceResend, "label_resend"),
		}}
		e.ask(t)
		return nil
	}
	return e.refuse(t, onStep, strings.Join(insp.Problems, "\n"))
}

// refuse says why an upload was refused; at the material's own step it is
// a failed answer, elsewhere the current question is asked again.
func (e *Engine) refuse(t *turn, onStep bool, msg string) error {
	if onStep {
		return e.fail(t, msg)
	}
	t.say(msg)
	e.ask(t)
	return nil
}

// FixPredictor is implemented by a PhotoFixer that can tell, before
// trying, whether it can make a compliant file from an image; the fix is
// offered only then.
type FixPredictor interface {
	CanFix(ctx context.Context, m *Material, data []byte) bool
}

func (e *Engine) canFix(ctx context.Context, m *Material, data []byte) bool {
	if p, ok := e.opts.Fixer.(FixPredictor); ok {
		return p.CanFix(ctx, m, data)
	}
	return true
}

func (e *Engine) facts(t *turn) Facts {
	f := Facts{Now: t.now}
	if key := e.dateSlot(); key != "" {
		if v, ok := t.s.Answers[key].(string); ok {
			f.IDExpiry = v
		}
	}
	return f
}

func (e *Engine) document(t *turn, key, ref string, insp Inspection) store.Document {
	return store.Document{
		Material: key, BlobRef: ref, Size: insp.Size, Width: insp.Width, Height: insp.Height,
		Format: insp.Format, Accepted: len(insp.Problems) == 0, Problems: insp.Problems, At: t.now,
		PHash: insp.Hash,
	}
}

// accept records an accepted upload and moves on.
func (e *Engine) accept(t *turn, key, ref string, id fileID, reminder string, onStep bool) {
	s := t.s
	m, _ := e.plan.Material(key)
	if s.Materials == nil {
		s.Materials = map[string]MaterialState{}
	}
	s.Materials[key] = MaterialState{Ref: ref, Hash: id.hash, Print: id.print}
	if s.MaterialsReminder {
		// The reminder lists what was missing then: moot now.
		s.MaterialsReminder = false
		t.res.CancelReminders = true
	}
	msg := e.text("upload_received", "material", m.Name)
	if reminder != "" {
		msg += "\n" + reminder
	}
	t.say(msg)
	if onStep {
		e.pushTrail(s)
	}
	e.advance(t)
}

// answerFix handles the fix offer and the confirmation of the fixed photo.
func (e *Engine) answerFix(t *turn) error {
	s := t.s
	p := s.Pending
	key := p.Material
	onStep := s.Step == uploadPrefix+key
	id, ok := pickChoice(t.in, p.Choices)
	if !ok {
		return e.fail(t, e.text("pick_choice"))
	}
	m, _ := e.plan.Material(key)
	switch id {
	case choiceResend:
		s.Pending = nil
		if !onStep {
			s.Step = uploadPrefix + key
		}
		e.ask(t)
	case choiceFix:
		return e.fix(t, m, p)
	case choiceUseFix:
		data, err := e.opts.Blobs.Get(t.ctx, p.Value)
		if err != nil {
			return fmt.Errorf("read fixed photo: %w", err)
		}
		insp := e.opts.Inspector.Inspect(t.ctx, m, data, e.facts(t))
		doc := e.document(t, key, p.Value, insp)
		t.emit(Event{Kind: EventMaterial, Document: &doc})
		s.Pending = nil
		e.accept(t, key, p.Value, fileID{hash: p.Hash, print: p.Print}, "", onStep)
	}
	return nil
}

// fix makes a compliant photo from the pending upload and shows it.
func (e *Engine) fix(t *turn, m *Material, p *Pending) error {
	s := t.s
	onStep := s.Step == uploadPrefix+m.Key
	orig, err := e.opts.Blobs.Get(t.ctx, p.Value)
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	fixed, err := e.opts.Fixer.Fix(t.ctx, m, orig)
	if err == nil {
		if insp := e.opts.Inspector.Inspect(t.ctx, m, fixed, e.facts(t)); len(insp.Problems) > 0 {
			err = fmt.Errorf("fixed photo still fails: %s", strings.Join(insp.Problems, "; "))
		}
	}
	if err != nil {
		e.opts.Log.Warn("photo fix failed", "material", m.Key, "err", err)
		s.Pending = nil
		// The fixer says what to do instead when it knows (retake in front
		// of a plain wall, send the original…).
		msg := e.text("fix_failed")
		var advice interface{ Advice() string }
		if errors.As(err, &advice) && advice.Advice() != "" {
			msg = advice.Advice()
		}
		return e.refuse(t, onStep, msg)
	}
	ref, err := e.opts.Blobs.Put(t.ctx, fixed, m.Sensitive)
	if err != nil {
		return fmt.Errorf("store fixed photo: %w", err)
	}
	t.res.Messages = append(t.res.Messages, Outbound{Text: e.text("fix_done"), Image: &OutImage{Name: m.FileName, Ref: ref, Data: fixed}})
	// The fixed photo stands for the original: a duplicate check compares
	// later uploads with what the candidate sent.
	s.Pending = &Pending{Kind: PendingFixConfirm, Value: ref, Material: m.Key, Hash: p.Hash, Print: p.Print, Choices: []Choice{
		e.choice(choiceUseFix, "label_use_fixed"),
		e.choice(choiceResend, "label_resend"),
	}}
	e.ask(t)
	return nil
}

// MemoryBlobs is an in-memory BlobStore, the embedded default.
type MemoryBlobs struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

// NewMemoryBlobs returns an empty MemoryBlobs.
func NewMemoryBlobs() *MemoryBlobs { return &MemoryBlobs{blobs: map[string][]byte{}} }

// Put implements Blobs.
func (b *MemoryBlobs) Put(_ context.Context, data []byte, _ bool) (string, error) {
	sum := sha256.Sum256(data)
	ref := hex.EncodeToString(sum[:])
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.blobs[ref]; !ok {
		b.blobs[ref] = append([]byte(nil), data...)
	}
	return ref, nil
}

// Get returns the bytes stored under ref.
func (b *MemoryBlobs) Get(_ context.Context, ref string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.blobs[ref]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", ref, store.ErrNotFound)
	}
	return data, nil
}
