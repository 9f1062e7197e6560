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

func lookupBy(column string) string {
	return `
		select distinct on (a.id) a.candidate_id, i.channel, i.user_id, a.status, a.updated_at
		from applications a join identities i on i.candidate_id = a.candidate_id
		where a.plan_id = $1 and a.` + column + ` = any($2)
		order by a.id, i.created_at desc`
}

// FindApplications returns the applications to plan whose answer key is
// value, most recently changed first, or store.ErrNotFound: the status
// import's and the staff API's lookup and the console's search by mobile or
// ID number. It is the one place that knows how those answers are stored.
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
		err := r.Scan(&ref.CandidateID, &ref.Identity.Channel, &ref.Identity.UserID, &status, &ref.UpdatedAt)
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
