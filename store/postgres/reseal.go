package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"regbot/store"
	"regbot/store/seal"
)

// ResealCounts are the rows Reseal changed, by table.
type ResealCounts struct {
	Applications, Inbound, TicketMessages, Documents int
}

// defaultResealPage is how many rows Reseal reads and writes at a time (one
// round trip each way).
const defaultResealPage = 500

// Reseal brings rows written before the record was encrypted to its
// protection: it seals what is not sealed, fills in the blind indexes of
// the lookup answers, moves legacy jsonb sessions into the sealed snapshot
// and clears the plain content hashes of documents. With all, it also
// reseals under the current key what an older key sealed (after a key
// rotation; the old key must still be configured). It is idempotent, can
// run while turns are recorded (a row changed meanwhile is left to the
// turn, which wrote it sealed), and without keys it only fills in the
// blind indexes.
func (s *Store) Reseal(ctx context.Context, all bool) (ResealCounts, error) {
	var c ResealCounts
	var err error
	if c.Applications, err = s.resealApplications(ctx, all); err != nil {
		return c, fmt.Errorf("reseal applications: %w", err)
	}
	if s.keys == nil {
		return c, nil
	}
	// Each table is walked by an index that starts with its group column
	// and ends with id (the log tables have no index on id alone).
	texts := []struct {
		n                    *int
		table, group, column string
		ad                   string
	}{
		{&c.Inbound, "inbound_messages", "candidate_id", "text", adInbound},
		{&c.TicketMessages, "ticket_messages", "ticket_id", "text", adTicketText},
		{&c.TicketMessages, "ticket_messages", "ticket_id", "image_ref", adTicketImage},
		{&c.Documents, "documents", "application_id", "blob_ref", adBlobRef},
		{&c.Documents, "documents", "application_id", "phash", adPHash},
	}
	for _, tc := range texts {
		n, err := s.resealText(ctx, tc.table, tc.group, tc.column, tc.ad, all)
		if err != nil {
			return c, fmt.Errorf("reseal %s.%s: %w", tc.table, tc.column, err)
		}
		*tc.n += n
	}
	tag, err := s.pool.Exec(ctx, `update documents set sha256 = null where sha256 is not null`)
	if err != nil {
		return c, fmt.Errorf("reseal documents.sha256: %w", err)
	}
	c.Documents += int(tag.RowsAffected())
	return c, nil
}

// resealText seals a text column's values, page by page in the order of
// (group, id). Empty values stay empty (they mean "none").
func (s *Store) resealText(ctx context.Context, table, group, column, ad string, all bool) (int, error) {
	// table, group and column come from Reseal's own list, never from input.
	q := fmt.Sprintf(`select %[2]s, id, %[3]s from %[1]s
		where (%[2]s, id) > ($1, $2) and %[3]s is not null and %[3]s <> '' and ($3 or %[3]s not like '`+seal.TextPrefix+`%%')
		order by %[2]s, id limit %[4]d`, table, group, column, s.resealPage)
	upd := fmt.Sprintf(`update %[1]s set %[3]s = $4 where %[2]s = $1 and id = $2 and %[3]s = $3`, table, group, column)
	changed := 0
	for lastGroup, last := int64(0), int64(0); ; {
		rows, err := s.pool.Query(ctx, q, lastGroup, last, all)
		if err != nil {
			return changed, err
		}
		type row struct {
			group, id int64
			v         string
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.group, &x.id, &x.v)
			return x, err
		})
		if err != nil {
			return changed, err
		}
		b := &pgx.Batch{}
		for _, r := range got {
			lastGroup, last = r.group, r.id
			if s.keys.CurrentText(r.v) {
				continue
			}
			plain, err := s.openText(r.v, ad)
			if err != nil {
				return changed, fmt.Errorf("row %d: %w", r.id, err)
			}
			b.Queue(upd, r.group, r.id, r.v, s.keys.SealText(plain, ad))
		}
		if b.Len() > 0 {
			if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
				return changed, err
			}
			changed += b.Len()
		}
		if len(got) < s.resealPage {
			return changed, nil
		}
	}
}

// resealApplications seals the sensitive answers and the snapshot (a legacy
// jsonb session becomes the sealed snapshot) and fills in the blind
// indexes, guarded by the row's seq.
func (s *Store) resealApplications(ctx context.Context, all bool) (int, error) {
	var unsealed string
	for _, k := range s.sensitiveKeys() {
		unsealed += fmt.Sprintf(` or (a.answers ? '%[1]s' and a.answers->>'%[1]s' not like '%[2]s%%')`, k, seal.TextPrefix)
	}
	q := `select a.id, a.seq, a.answers, ` + snapshotOf + `, a.session is not null, a.id_number_index, a.mobile_index
		from applications a
		where a.id > $1 and ($2 or a.session is not null
			or (a.snapshot is not null and get_byte(a.snapshot, 0) <> 0)
			or (a.answers ? 'id_number' and a.id_number_index is null)
			or (a.answers ? 'mobile' and a.mobile_index is null)` + unsealed + `)
		order by a.id limit ` + fmt.Sprint(s.resealPage)
	if s.keys == nil {
		// Nothing to seal: only the blind indexes to fill in.
		q = `select a.id, a.seq, a.answers, null::bytea, false, a.id_number_index, a.mobile_index
		from applications a
		where a.id > $1 and ($2 or (a.answers ? 'id_number' and a.id_number_index is null)
			or (a.answers ? 'mobile' and a.mobile_index is null))
		order by a.id limit ` + fmt.Sprint(s.resealPage)
	}
	changed := 0
	for last := int64(0); ; {
		rows, err := s.pool.Query(ctx, q, last, all)
		if err != nil {
			return changed, err
		}
		type row struct {
			id, seq          int64
			answers          map[string]any
			snap             []byte
			legacy           bool
			idNumber, mobile []byte
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.seq, &x.answers, &x.snap, &x.legacy, &x.idNumber, &x.mobile)
			return x, err
		})
		if err != nil {
			return changed, err
		}
		b := &pgx.Batch{}
		for _, r := range page {
			last = r.id
			if err := s.openAnswers(r.answers); err != nil {
				return changed, fmt.Errorf("application %d: %w", r.id, err)
			}
			idNumber := s.answerIndex(r.answers, store.LookupIDNumber)
			mobile := s.answerIndex(r.answers, store.LookupMobile)
			answers, err := json.Marshal(s.sealAnswers(r.answers))
			if err != nil {
				return changed, fmt.Errorf("application %d: %w", r.id, err)
			}
			var snap []byte
			if r.snap != nil && (r.legacy || !s.keys.Current(r.snap)) {
				plain, err := s.openSnapshot(r.snap)
				if err != nil {
					return changed, fmt.Errorf("application %d: %w", r.id, err)
				}
				snap = s.keys.Seal(plain, []byte(adSnapshot))
			}
			if s.keys == nil && bytes.Equal(idNumber, r.idNumber) && bytes.Equal(mobile, r.mobile) {
				continue
			}
			b.Queue(`update applications set answers = $3, id_number_index = $4, mobile_index = $5,
					snapshot = coalesce($6, snapshot), session = null
				where id = $1 and seq = $2`,
				r.id, r.seq, json.RawMessage(answers), idNumber, mobile, snap)
		}
		if b.Len() > 0 {
			if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
				return changed, err
			}
			changed += b.Len()
		}
		if len(page) < s.resealPage {
			return changed, nil
		}
	}
}
