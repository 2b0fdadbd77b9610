package memstore

import (
	"context"
	"fmt"

	"github.com/medsettle/medsettle/store"
)

// PutFeeDetails adds lines to an OPEN visit, all or nothing; see
// store.VisitStore.
func (s *Store) PutFeeDetails(ctx context.Context, visitID string, lines []store.FeeDetail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckFeeDetails(lines); err != nil {
		return err
	}
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(visitID)
	if err != nil {
		return err
	}
	if err := r.v.CheckOpen(); err != nil {
		return err
	}
	live, err := r.liveBySN()
	if err != nil {
		return err
	}
	fresh, err := store.NewFeeDetails(visitID, live, lines)
	if err != nil {
		return err
	}
	if err := store.CheckDetailRoom(visitID, r.lines.n, r.rows, len(fresh)); err != nil {
		return err
	}
	r.lines.add(fresh) // encoded: nothing of the caller's is kept
	r.rows += len(fresh)
	if len(fresh) > 0 {
		r.v.DetailsVersion++
	}
	return nil
}

// CancelFeeDetails cancels a visit's live lines of a batch and SN; see
// store.VisitStore.
func (s *Store) CancelFeeDetails(ctx context.Context, visitID, batch, sn string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(visitID)
	if err != nil {
		return 0, err
	}
	if err := r.v.CheckOpen(); err != nil {
		return 0, err
	}
	var kept detailLines
	ok := r.lines.each(func(body []byte) bool {
		dsn, dbatch, ok := detailKey(body)
		if ok && (batch == "" || string(dbatch) == batch) && (sn == "" || string(dsn) == sn) {
			return true
		}
		kept.enc = appendString(kept.enc, string(body))
		kept.n++
		return true
	})
	if !ok {
		return 0, fmt.Errorf("visit %q: %w", visitID, errDetailCorrupt)
	}
	n := r.lines.n - kept.n
	if n == 0 {
		return 0, nil
	}
	r.lines = kept
	r.v.DetailsVersion++
	return n, nil
}

// FeeDetails lists a visit's live lines of a batch in upload order; see
// store.VisitStore.
func (s *Store) FeeDetails(ctx context.Context, visitID, batch string) ([]store.FeeDetail, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(visitID)
	if err != nil {
		return nil, err
	}
	return r.live(batch)
}

// live lists the record's live lines of batch ("" = all) in upload order,
// decoded. Call with the book's lock held.
func (r *visitRecord) live(batch string) ([]store.FeeDetail, error) {
	var out []store.FeeDetail
	var err error
	ok := r.lines.each(func(body []byte) bool {
		_, dbatch, ok := detailKey(body)
		if !ok || (batch != "" && string(dbatch) != batch) {
			return ok
		}
		var d store.FeeDetail
		if d, err = decodeDetail(r.v.ID, body); err != nil {
			return false
		}
		out = append(out, d)
		return true
	})
	if !ok && err == nil {
		err = errDetailCorrupt
	}
	if err != nil {
		return nil, fmt.Errorf("visit %q: %w", r.v.ID, err)
	}
	return out, nil
}

// liveBySN is the record's live lines by SN, decoded. Call with the book's
// lock held.
func (r *visitRecord) liveBySN() (map[string]store.FeeDetail, error) {
	lines, err := r.live("")
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.FeeDetail, len(lines))
	for _, d := range lines {
		m[d.SN] = d
	}
	return m, nil
}

// VisitDetails reads a visit and its live lines of a batch under one hold
// of the book's lock; see store.VisitStore.
func (s *Store) VisitDetails(ctx context.Context, id, batch string) (store.Visit, []store.FeeDetail, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, nil, err
	}
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	r, err := b.visit(id)
	if err != nil {
		return store.Visit{}, nil, err
	}
	lines, err := r.live(batch)
	if err != nil {
		return store.Visit{}, nil, err
	}
	return r.v, lines, nil
}
