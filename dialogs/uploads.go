package dialogs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"regbot/store"
)

// upload takes an image for material key: it stores the bytes, checks them,
// and either accepts the material, offers to fix a photo, or says what to
// fix and asks again.
func (e *Engine) upload(t *turn, key string) error {
	m, _ := e.plan.Material(key)
	if t.in.Image == nil {
		return e.fail(t, strings.ReplaceAll(e.plan.Text("expect_image"), "{material}", m.Name))
	}
	data := t.in.Image.Data
	ref, err := e.opts.Blobs.Put(t.ctx, data, m.Sensitive)
	if err != nil {
		return fmt.Errorf("store upload: %w", err)
	}
	t.res.ImageRef = ref
	insp := e.opts.Inspector.Inspect(t.ctx, m, data, e.facts(t))
	doc := e.document(t, key, ref, insp)
	t.emit(Event{Kind: EventMaterial, Document: &doc})
	if len(insp.Problems) == 0 {
		e.accept(t, key, ref, insp.Reminder)
		return nil
	}
	if insp.Fixable && m.Checks.Fixable && e.opts.Fixer != nil {
		t.say(strings.Join(insp.Problems, "\n"))
		t.s.Pending = &Pending{Kind: PendingFixOffer, Value: ref, Choices: []Choice{
			e.choice(choiceFix, "label_fix"),
			e.choice(choiceResend, "label_resend"),
		}}
		e.ask(t)
		return nil
	}
	return e.fail(t, strings.Join(insp.Problems, "\n"))
}

func (e *Engine) facts(t *turn) Facts {
	f := Facts{Now: t.now}
	if v, ok := t.s.Answers["id_expiry"].(string); ok {
		f.IDExpiry = v
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
func (e *Engine) accept(t *turn, key, ref, reminder string) {
	s := t.s
	m, _ := e.plan.Material(key)
	if s.Materials == nil {
		s.Materials = map[string]MaterialState{}
	}
	s.Materials[key] = MaterialState{Ref: ref}
	msg := strings.ReplaceAll(e.plan.Text("upload_received"), "{material}", m.Name)
	if reminder != "" {
		msg += "\n" + reminder
	}
	t.say(msg)
	e.pushTrail(s)
	e.advance(t)
}

// answerFix handles the fix offer and the confirmation of the fixed photo.
func (e *Engine) answerFix(t *turn) error {
	s := t.s
	p := s.Pending
	key := strings.TrimPrefix(s.Step, uploadPrefix)
	if t.in.Image != nil {
		// A new photo instead of an answer: check it afresh.
		s.Pending = nil
		return e.upload(t, key)
	}
	id, ok := pickChoice(t.in, p.Choices)
	if !ok {
		return e.fail(t, e.plan.Text("pick_choice"))
	}
	m, _ := e.plan.Material(key)
	switch id {
	case choiceResend:
		s.Pending = nil
		e.ask(t)
	case choiceFix:
		orig, err := e.opts.Blobs.Get(t.ctx, p.Value)
		if err != nil {
			return fmt.Errorf("read upload: %w", err)
		}
		fixed, err := e.opts.Fixer.Fix(t.ctx, m, orig)
		if err != nil {
			e.opts.Log.Warn("photo fix failed", "material", key, "err", err)
			s.Pending = nil
			return e.fail(t, e.plan.Text("fix_failed"))
		}
		insp := e.opts.Inspector.Inspect(t.ctx, m, fixed, e.facts(t))
		if len(insp.Problems) > 0 {
			s.Pending = nil
			return e.fail(t, e.plan.Text("fix_failed"))
		}
		ref, err := e.opts.Blobs.Put(t.ctx, fixed, m.Sensitive)
		if err != nil {
			return fmt.Errorf("store fixed photo: %w", err)
		}
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.plan.Text("fix_done"), Image: &OutImage{Name: m.FileName, Data: fixed}})
		s.Pending = &Pending{Kind: PendingFixConfirm, Value: ref, Choices: []Choice{
			e.choice(choiceUseFix, "label_use_fixed"),
			e.choice(choiceResend, "label_resend"),
		}}
		e.ask(t)
	case choiceUseFix:
		data, err := e.opts.Blobs.Get(t.ctx, p.Value)
		if err != nil {
			return fmt.Errorf("read fixed photo: %w", err)
		}
		insp := e.opts.Inspector.Inspect(t.ctx, m, data, e.facts(t))
		doc := e.document(t, key, p.Value, insp)
		t.emit(Event{Kind: EventMaterial, Document: &doc})
		s.Pending = nil
		e.accept(t, key, p.Value, "")
	}
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
