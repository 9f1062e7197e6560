package postgres

import (
	"context"
	"fmt"
)

// CandidateSession returns the session snapshot of candidate's most recently
// changed application (what `regbot export materials --candidate ID` and the
// admin package endpoint build the material package from), or
// store.ErrNotFound.
func (s *Store) CandidateSession(ctx context.Context, candidateID int64) ([]byte, error) {
	var snap []byte
	err := s.pool.QueryRow(ctx, `
		select `+snapshotOf+` from applications a
		where candidate_id = $1 and (snapshot is not null or session is not null)
		order by updated_at desc, id desc
		limit 1`, candidateID).Scan(&snap)
	if err != nil {
		return nil, fmt.Errorf("candidate %d session: %w", candidateID, translate(err))
	}
	if snap, err = s.openSnapshot(snap); err != nil {
		return nil, fmt.Errorf("candidate %d session: %w", candidateID, err)
	}
	return snap, nil
}
