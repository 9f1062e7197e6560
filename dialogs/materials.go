package dialogs

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg" // registered so the default inspector can read JPEG headers
	_ "image/png"  // and PNG headers
	"time"

	"regbot/store"
)

// Inspector checks an uploaded image against its material's checks before the
// bot says "收到". The real one is materials.Inspector; DefaultInspector only
// checks that the bytes are an image.
type Inspector interface {
	Inspect(ctx context.Context, m *Material, data []byte, facts Facts) Inspection
}

// Facts are what the candidate said that a check needs.
type Facts struct {
	Now time.Time
	// IDExpiry is the ID card expiry date as given: "YYYY-MM-DD" or "长期".
	IDExpiry string
}

// Inspection is the outcome of checking one upload.
type Inspection struct {
	Format string
	Width  int
	Height int
	Size   int64
	// Problems are zh-CN sentences, each saying what is wrong and how to fix
	// it; none means the upload is accepted.
	Problems []string
	// Fixable is true when every problem is one the photo fixer can mend
	// (format, file size, ratio).
	Fixable bool
	// Reminder is said with an accepted upload (e.g. the no-corrections rule
	// for handwritten forms).
	Reminder string
	// Hash is the picture's perceptual hash (empty when it could not be
	// decoded): uploads whose hashes are Near show the same picture.
	Hash store.ImageHash
}

// PhotoFixer turns a candidate's photo into a compliant 1-inch photo.
type PhotoFixer interface {
	Fix(ctx context.Context, m *Material, data []byte) ([]byte, error)
}

// Blobs stores uploaded files and returns their reference.
type Blobs interface {
	Put(ctx context.Context, data []byte, sensitive bool) (ref string, err error)
}

// DefaultInspector accepts any decodable image and refuses everything else.
type DefaultInspector struct {
	// Unreadable is what a candidate reads about a file that is not an
	// image (NewEngine sets the plan's text unreadable_image).
	Unreadable string
}

// Inspect implements Inspector.
func (d DefaultInspector) Inspect(_ context.Context, _ *Material, data []byte, _ Facts) Inspection {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Inspection{Size: int64(len(data)), Problems: []string{d.Unreadable}}
	}
	return Inspection{Format: format, Width: cfg.Width, Height: cfg.Height, Size: int64(len(data))}
}
