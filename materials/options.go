package materials

import "context"

// Defaults of the settings the options change.
const (
	// DefaultMaxPixels is the largest image (width × height) decoded: 40
	// megapixels, more than any phone's normal photo.
	DefaultMaxPixels = 40_000_000
	// DefaultWhiteLevel is the lowest value of every RGB channel that still
	// counts as white (a tolerance of 40 below pure white).
	DefaultWhiteLevel = 215
	// DefaultWhiteShare is the share of the border region that must be white
	// for a white background.
	DefaultWhiteShare = 0.9
)

// settings are what Inspector and Fixer share.
type settings struct {
	maxPixels  int64
	whiteLevel uint8
	whiteShare float64
	slots      *DecodeSlots
	texts      Texts
}

func newSettings(texts Texts, opts []Option) settings {
	s := settings{maxPixels: DefaultMaxPixels, whiteLevel: DefaultWhiteLevel, whiteShare: DefaultWhiteShare, texts: texts}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// Option changes a setting of an Inspector or a Fixer.
type Option func(*settings)

// WithMaxPixels sets the largest image (width × height) that is decoded;
// larger ones are refused from their header alone. n ≤ 0 keeps the default.
func WithMaxPixels(n int64) Option {
	return func(s *settings) {
		if n > 0 {
			s.maxPixels = n
		}
	}
}

// WithWhiteBackground sets how a white background is measured: a border
// pixel is white when each of its RGB channels is at least level, and the
// background is white when at least share (0–1] of the border pixels are.
// Out-of-range values keep the defaults.
func WithWhiteBackground(level uint8, share float64) Option {
	return func(s *settings) {
		if level > 0 {
			s.whiteLevel = level
		}
		if share > 0 && share <= 1 {
			s.whiteShare = share
		}
	}
}

// DecodeSlots bounds how many uploads are checked or fixed at once by the
// Inspectors and Fixers that share it: each full decode of a phone photo
// holds 18–160 MB, so a burst of uploads must queue rather than exhaust
// memory.
type DecodeSlots struct{ c chan struct{} }

// NewDecodeSlots returns room for n decodes at once (n < 1 means 1).
func NewDecodeSlots(n int) *DecodeSlots { return &DecodeSlots{c: make(chan struct{}, max(n, 1))} }

// acquire waits for a slot until ctx ends; a nil DecodeSlots never waits.
func (d *DecodeSlots) acquire(ctx context.Context) error {
	if d == nil {
		return nil
	}
	select {
	case d.c <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *DecodeSlots) release() {
	if d != nil {
		<-d.c
	}
}

// WithDecodeSlots makes an Inspector or a Fixer take a slot of d for each
// upload it checks or fixes.
func WithDecodeSlots(d *DecodeSlots) Option { return func(s *settings) { s.slots = d } }
