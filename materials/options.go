package materials

import (
	"context"
	"fmt"
	"runtime"

	"golang.org/x/sync/semaphore"
)

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
	budget     *DecodeBudget
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

// DefaultDecodeBudget is the memory the decoded images of one process may
// take at once: 256 MB, a 40-megapixel photo and change, or a dozen phone
// photos.
const DefaultDecodeBudget = 256 << 20

// DecodeBudget bounds the memory that the uploads being checked or fixed
// at once take, by the Inspectors and Fixers that share it. Each upload
// weighs width × height × 4 bytes (a decoded RGBA image; a decoded JPEG
// takes less, and the Fixer's working copies fit in the difference), read
// from its header before any pixel is decoded: a burst of large photos
// queues, small ones go through side by side.
type DecodeBudget struct {
	sem   *semaphore.Weighted
	total int64
}

// NewDecodeBudget returns a budget of n bytes (n < 1 means
// DefaultDecodeBudget).
func NewDecodeBudget(n int64) *DecodeBudget {
	if n < 1 {
		n = DefaultDecodeBudget
	}
	return &DecodeBudget{sem: semaphore.NewWeighted(n), total: n}
}

// weight is what decoding an image of header hd takes from the budget: at
// most the whole budget, so that the largest image allowed waits for all
// others instead of forever.
func (d *DecodeBudget) weight(hd header) int64 {
	return min(d.total, max(1, int64(hd.w)*int64(hd.h)*4))
}

// acquire waits until the image of header hd fits in the budget or ctx
// ends; release gives its share back. A nil budget never waits.
func (d *DecodeBudget) acquire(ctx context.Context, hd header) (release func(), err error) {
	if d == nil {
		return func() {}, nil
	}
	n := d.weight(hd)
	if err := d.sem.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("decode budget: %w", err)
	}
	return func() {
		if n >= d.total/4 {
			// The budget bounds live decoded pixels, but the Go heap
			// reuses a released image only after a collection: without
			// one, the next large decode allocates beside the garbage,
			// and a burst of 40-megapixel uploads holds two or three
			// (up to four on a loaded machine) in RSS at once. Pixel
			// buffers hold no pointers, so the mark is cheap next to the
			// decode that preceded it.
			runtime.GC()
		}
		d.sem.Release(n)
	}, nil
}

// WithDecodeBudget makes an Inspector or a Fixer take its share of d for
// each upload it decodes.
func WithDecodeBudget(d *DecodeBudget) Option { return func(s *settings) { s.budget = d } }
