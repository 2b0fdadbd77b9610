package memstore

import (
	"context"
	"slices"

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
	live := make(map[string]store.FeeDetail, len(r.lines))
	for _, d := range r.lines {
		live[d.SN] = d
	}
	fresh, err := store.NewFeeDetails(visitID, live, lines)
	if err != nil {
		return err
	}
	if err := store.CheckDetailRoom(visitID, len(r.lines), r.rows, len(fresh)); err != nil {
		return err
	}
	// A new slice: a caller's FeeDetails slice is never the record's.
	r.lines = append(slices.Clip(r.lines), fresh...)
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
	kept := make([]store.FeeDetail, 0, len(r.lines))
	for _, d := range r.lines {
		if (batch == "" || d.Batch == batch) && (sn == "" || d.SN == sn) {
			continue
		}
		kept = append(kept, d)
	}
	n := len(r.lines) - len(kept)
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
	return r.live(batch), nil
}

// live lists the record's live lines of batch ("" = all) in upload order,
// in a slice of its own. Call with the book's lock held.
func (r *visitRecord) live(batch string) []store.FeeDetail {
	var out []store.FeeDetail
	for _, d := range r.lines {
		if batch == "" || d.Batch == batch {
			out = append(out, d)
		}
	}
	return out
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
	return r.v, r.live(batch), nil
}
