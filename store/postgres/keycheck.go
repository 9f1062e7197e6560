package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrWrongRecordKey is returned by CheckKeys when the record was sealed
// under a key this Store was not given.
var ErrWrongRecordKey = errors.New("the record is sealed under another record key than this instance's (give every instance the same privacy.record_key)")

// canaryPlain is the constant sealed in record_key_check.
const (
	canaryPlain = "regbot record key check"
	adCanary    = "record_key_check.canary"
)

// CheckKeys makes sure the Store's record key is the record's: on a record
// without a check value it stores one sealed under the current key; on one
// with it, the value must open under the Store's keys (the current or an
// old one), else ErrWrongRecordKey. A value sealed under an old key is
// resealed under the current one. Without keys (the insecure mode) it
// checks nothing.
func (s *Store) CheckKeys(ctx context.Context) error {
	if s.keys == nil {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `insert into record_key_check (canary) values ($1) on conflict (id) do nothing`,
		s.keys.SealText(canaryPlain, adCanary)); err != nil {
		return fmt.Errorf("record key check: %w", err)
	}
	var canary string
	if err := s.pool.QueryRow(ctx, `select canary from record_key_check where id = 1`).Scan(&canary); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("record key check: the check value vanished")
		}
		return fmt.Errorf("record key check: %w", err)
	}
	plain, err := s.keys.OpenText(canary, adCanary)
	if err != nil || plain != canaryPlain {
		return ErrWrongRecordKey
	}
	if !s.keys.CurrentText(canary) {
		if _, err := s.pool.Exec(ctx, `update record_key_check set canary = $1, updated_at = now() where id = 1`,
			s.keys.SealText(canaryPlain, adCanary)); err != nil {
			return fmt.Errorf("record key check: %w", err)
		}
	}
	return nil
}
