package materials

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"regbot/dialogs"
)

// BlobReader reads stored uploads back (store/blob.Dir, dialogs.MemoryBlobs).
type BlobReader interface {
	Get(ctx context.Context, ref string) ([]byte, error)
}

// WritePackage writes the candidate's material package as a zip to w: every
// current material under the name the official site asks for (身份证人像面.jpg,
// 一寸照片.jpg, …; the extension follows the real format), and the answers
// the online form needs under the plan's texts.package_summary_file. The bytes are the originals as
// stored (decrypted), so the package round-trips what the candidate sent.
func WritePackage(ctx context.Context, w io.Writer, e *dialogs.Engine, s *dialogs.Session, blobs BlobReader, now time.Time) error {
	plan := e.Plan()
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		// Photos are compressed already: stored as they are, which also
		// spares each download a compressor's buffers.
		method := zip.Store
		if fileName(name, data) == name && path.Ext(name) == ".txt" {
			method = zip.Deflate
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: now})
		if err != nil {
			return fmt.Errorf("package %s: %w", name, err)
		}
		if _, err := f.Write(data); err != nil {
			return fmt.Errorf("package %s: %w", name, err)
		}
		return nil
	}
	if err := add(plan.Text("package_summary_file"), []byte(e.Summary(s))); err != nil {
		return err
	}
	for _, m := range plan.Materials {
		st, ok := s.Materials[m.Key]
		if !ok || st.Ref == "" {
			continue
		}
		data, err := blobs.Get(ctx, st.Ref)
		if err != nil {
			return fmt.Errorf("package %s: %w", m.Key, err)
		}
		if err := add(fileName(m.FileName, data), data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	return nil
}

// fileName keeps the plan's name but gives it the extension of the bytes'
// real format.
func fileName(name string, data []byte) string {
	ext := ""
	switch http.DetectContentType(data) {
	case "image/jpeg":
		ext = ".jpg"
	case "image/png":
		ext = ".png"
	case "image/webp":
		ext = ".webp"
	default:
		return name
	}
	return strings.TrimSuffix(name, path.Ext(name)) + ext
}
