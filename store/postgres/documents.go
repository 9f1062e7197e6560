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
func queueDocument(b *pgx.Batch, id store.Identity, planID string, app *int64, d store.Document, at time.Time) {
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
		update documents set superseded_at = $6
		where application_id = `+appRef(4)+` and material = $5 and superseded_at is null`,
		id.Channel, id.UserID, planID, app, d.Material, d.At)
	b.Queue(`
		insert into documents (application_id, material, blob_ref, sha256, size, width, height, format, accepted, problems, created_at, phash)
		select `+appRef(4)+`, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15`,
		id.Channel, id.UserID, planID, app, d.Material, d.BlobRef, sum, d.Size, d.Width, d.Height, d.Format,
		d.Accepted, problems, d.At, phash)
}

// Documents returns every document recorded for the identity's application
// to plan, oldest first, superseded ones included.
func (s *Store) Documents(ctx context.Context, id store.Identity, planID string) ([]store.DocumentRecord, error) {
	rows, err := s.pool.Query(ctx, `select `+documentColumns+`
		from documents d where application_id = `+applicationOf+`
		order by id`, id.Channel, id.UserID, planID)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DocumentRecord, error) { return s.scanDocument(r) })
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	return docs, nil
}

const documentColumns = `d.id, d.material, d.blob_ref, d.size, d.width, d.height, d.format, d.accepted, d.problems,
	d.created_at, d.superseded_at, coalesce(d.phash, ''), d.review, d.review_reason, coalesce(d.reviewed_by, 0), d.reviewed_at`

func (s *Store) scanDocument(r pgx.Row) (store.DocumentRecord, error) {
	var d store.DocumentRecord
	var superseded, reviewed *time.Time
	err := r.Scan(&d.ID, &d.Material, &d.BlobRef, &d.Size, &d.Width, &d.Height, &d.Format, &d.Accepted, &d.Problems,
		&d.At, &superseded, &d.PHash, &d.Review, &d.ReviewReason, &d.ReviewedBy, &reviewed)
	d.SupersededAt, d.ReviewedAt = orZero(superseded), orZero(reviewed)
	if len(d.Problems) == 0 {
		d.Problems = nil
	}
	if err != nil {
		return d, err
	}
	return d, s.openDocument(&d)
}

// applicationDocuments returns the documents of an application, oldest
// first.
func (s *Store) applicationDocuments(ctx context.Context, appID int64) ([]store.DocumentRecord, error) {
	rows, err := s.pool.Query(ctx, `select `+documentColumns+` from documents d where application_id = $1 order by id`, appID)
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DocumentRecord, error) { return s.scanDocument(r) })
	if err != nil {
		return nil, fmt.Errorf("documents: %w", err)
	}
	return docs, nil
}

// CandidateDocument returns one document of a candidate's applications, or
// store.ErrNotFound (also when it belongs to another candidate).
func (s *Store) CandidateDocument(ctx context.Context, candidateID, documentID int64) (store.DocumentRecord, error) {
	d, err := s.scanDocument(s.pool.QueryRow(ctx, `select `+documentColumns+`
		from documents d join applications a on a.id = d.application_id
		where d.id = $1 and a.candidate_id = $2`, documentID, candidateID))
	if err != nil {
		return store.DocumentRecord{}, fmt.Errorf("document %d: %w", documentID, translate(err))
	}
	return d, nil
}

// ReviewDocument records staff's verdict on a document of the candidate;
// store.ErrNotFound when the candidate has no such document.
func (s *Store) ReviewDocument(ctx context.Context, candidateID int64, r store.DocumentReview) error {
	return s.execOne(ctx, "review document", `
		update documents d set review = $3, review_reason = $4, reviewed_by = $5, reviewed_at = $6
		from applications a
		where d.id = $1 and a.id = d.application_id and a.candidate_id = $2`,
		r.DocumentID, candidateID, r.Verdict, r.Reason, r.StaffID, r.At)
}
