package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// lookupSQL finds applications by one answer's blind index (the value is
// sealed; migration 013 indexes the blind indexes). $2 holds the value's
// index under every configured key, so rows indexed before a key rotation
// are found. A candidate with several identities is reached on the one
// that wrote last.
var lookupSQL = map[store.LookupKey]string{
	store.LookupIDNumber: lookupBy(`id_number_index`),
	store.LookupMobile:   lookupBy(`mobile_index`),
}

// contactSQL finds the candidates by one answer's blind index.
var contactSQL = map[store.LookupKey]string{
	store.LookupIDNumber: `select distinct candidate_id from applications where plan_id = $1 and id_number_index = any($2) order by 1`,
	store.LookupMobile:   `select distinct candidate_id from applications where plan_id = $1 and mobile_index = any($2) order by 1`,
}

func lookupBy(column string) string {
	return `
		select distinct on (a.id) i.channel, i.user_id, a.status, a.updated_at
		from applications a join identities i on i.candidate_id = a.candidate_id
		where a.plan_id = $1 and a.` + column + ` = any($2)
		order by a.id, i.created_at desc`
}

// CandidatesByContact returns the candidates whose application to plan
// has value as its answer key (an empty, non-nil list when none): the
// console's search by mobile or ID number. It and FindApplications are the
// only places that know how those answers are stored.
func (s *Store) CandidatesByContact(ctx context.Context, planID string, key store.LookupKey, value string) ([]int64, error) {
	q, ok := contactSQL[key]
	if !ok {
		return nil, fmt.Errorf("candidates by contact: unknown lookup key %q", key)
	}
	rows, err := s.pool.Query(ctx, q, planID, s.keys.Indexes(string(key), value))
	if err != nil {
		return nil, fmt.Errorf("candidates by contact: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("candidates by contact: %w", err)
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, nil
}

// FindApplications returns the applications to plan whose answer key is
// value, most recently changed first, or store.ErrNotFound. It and
// CandidatesByContact are the only places that know how those answers are
// stored.
func (s *Store) FindApplications(ctx context.Context, planID string, key store.LookupKey, value string) ([]store.ApplicationRef, error) {
	q, ok := lookupSQL[key]
	if !ok {
		return nil, fmt.Errorf("find applications: unknown lookup key %q", key)
	}
	rows, err := s.pool.Query(ctx, q, planID, s.keys.Indexes(string(key), value))
	if err != nil {
		return nil, fmt.Errorf("find applications: %w", err)
	}
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ApplicationRef, error) {
		ref := store.ApplicationRef{PlanID: planID}
		var status string
		err := r.Scan(&ref.Identity.Channel, &ref.Identity.UserID, &status, &ref.UpdatedAt)
		ref.Status = store.Status(status)
		return ref, err
	})
	if err != nil {
		return nil, fmt.Errorf("find applications: %w", err)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("find applications: %w", store.ErrNotFound)
	}
	slices.SortStableFunc(refs, func(a, b store.ApplicationRef) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return refs, nil
}
