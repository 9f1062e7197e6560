package postgres

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// queueDocument supersedes the current document of d's material and records
// d as the current one.
func queueDocument(b *pgx.Batch, id store.Identity, planID string, d store.Document, at time.Time) {
	if d.At.IsZero() {
		d.At = at
	}
	var sum *string // the blob ref is the content's SHA-256 for the blob directory
	if sha256Hex.MatchString(d.BlobRef) {
		sum = &d.BlobRef
	}
	var phash *string
	if d.PHash != "" {
		phash = (*string)(&d.PHash)
	}
	problems := d.Problems
	if problems == nil {
		problems = []string{}
	}
	b.Queue(`
		update documents set superseded_at = $5
		where application_id = `+applicationOf+` and material = $4 and superseded_at is null`,
		id.Channel, id.UserID, planID, d.Material, d.At)
	b.Queue(`
		insert into documents (application_id, material, blob_ref, sha256, size, width, height, format, accepted, problems, created_at, phash)
		select `+applicationOf+`, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14`,
		id.Channel, id.UserID, planID, d.Material, d.BlobRef, sum, d.Size, d.Width, d.Height, d.Format,
		d.Accepted, problems, d.At, phash)
}

// Documents returns every document recorded for the identity's application
// to plan, oldest first, superseded ones included.
func (s *Store) Documents(ctx context.Context, id store.Identity, planID string) ([]store.DocumentRecord, error) {
	rows, err := s.pool.Query(ctx, `
		select material, blob_ref, size, width, height, format, accepted, problems, created_at, superseded_at, coalesce(phash, '')
		from documents where application_id = `+applicationOf+`
		order by id`, id.Channel, id.UserID, planID)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DocumentRecord, error) {
		var d store.DocumentRecord
		var superseded *time.Time
		err := r.Scan(&d.Material, &d.BlobRef, &d.Size, &d.Width, &d.Height, &d.Format, &d.Accepted, &d.Problems, &d.At, &superseded, &d.PHash)
		if superseded != nil {
			d.SupersededAt = *superseded
		}
		if len(d.Problems) == 0 {
			d.Problems = nil
		}
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	return docs, nil
}
