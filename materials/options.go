package materials

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
}

func newSettings(opts []Option) settings {
	s := settings{maxPixels: DefaultMaxPixels, whiteLevel: DefaultWhiteLevel, whiteShare: DefaultWhiteShare}
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
