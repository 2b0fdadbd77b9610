package memstore

import (
	"context"
	"fmt"

	"github.com/medsettle/medsettle/store"
)

// PutFeeDetails adds lines to an OPEN visit, all or nothing; see
// store.VisitStore. The visit's stripe (visitStripes) is held throughout,
// so nothing changes the visit between reading its lines and storing the
// new ones, and the book's mutex is held only to read and to store: the
// lines are decoded, checked and encoded outside it.
func (s *Store) PutFeeDetails(ctx context.Context, visitID string, lines []store.FeeDetail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckFeeDetails(lines); err != nil {
		return err
	}
	vmu := s.visitLocks.lock(visitID)
	defer vmu.Unlock()
	b := &s.visits
	b.mu.Lock()
	slot, vs, err := b.findSlot(visitID)
	if err == nil {
		err = vs.checkOpen(visitID)
	}
	var have detailLines
	var rows uint32
	if err == nil {
		have, rows = b.detailLines(slot), vs.rows
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	live, err := newDetailFinder(visitID, have, len(lines))
	if err != nil {
		return fmt.Errorf("visit %q: %w", visitID, err)
	}
	var room [64]int
	fresh, err := store.FreshFeeDetails(lines, live.find, room[:0])
	if err == nil {
		err = live.err
	}
	if err != nil {
		return err
	}
	if err := store.CheckDetailRoom(visitID, have.n, int(rows), len(fresh)); err != nil {
		return err
	}
	if len(fresh) == 0 {
		return nil // every line already stored: nothing changes
	}
	// Encoded: nothing of the caller's is kept. Appending may write after
	// the bytes others read, never over them (liveLines).
	have.addFresh(lines, fresh)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setDetailLines(slot, have)
	vs = b.slots.at(slot)
	vs.rows += uint32(len(fresh))
	vs.detailsVersion++
	return nil
}

// CancelFeeDetails cancels a visit's live lines of a batch and SN; see
// store.VisitStore.
func (s *Store) CancelFeeDetails(ctx context.Context, visitID, batch, sn string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	vmu := s.visitLocks.lock(visitID)
	defer vmu.Unlock()
	b := &s.visits
	b.mu.Lock()
	defer b.mu.Unlock()
	slot, vs, err := b.findSlot(visitID)
	if err != nil {
		return 0, err
	}
	if err := vs.checkOpen(visitID); err != nil {
		return 0, err
	}
	have := b.detailLines(slot)
	var kept detailLines
	ok := have.each(func(body []byte) bool {
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
	n := have.n - kept.n
	if n == 0 {
		return 0, nil
	}
	b.setDetailLines(slot, kept)
	vs.detailsVersion++
	return n, nil
}

// FeeDetails lists a visit's live lines of a batch in upload order; see
// store.VisitStore.
func (s *Store) FeeDetails(ctx context.Context, visitID, batch string) ([]store.FeeDetail, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vmu := s.visitLocks.lock(visitID)
	b := &s.visits
	b.mu.Lock()
	slot, _, err := b.findSlot(visitID)
	var lines detailLines
	if err == nil {
		lines = b.detailLines(slot)
	}
	b.mu.Unlock()
	vmu.Unlock()
	if err != nil {
		return nil, err
	}
	return liveLines(visitID, lines, batch) // outside the lock (liveLines)
}

// checkOpen is store.Visit.CheckOpen of the visit of s, whose id is id,
// without decoding it.
func (s *visitSlot) checkOpen(id string) error {
	return store.Visit{ID: id, State: store.VisitState(s.state)}.CheckOpen()
}

// liveLines lists the live lines l of visit id of batch ("" = all) in
// upload order, decoded, their strings sharing one allocation (nil when
// none is of batch). l is read (detailLines) under the book's lock, but
// may be decoded after it is released: a visit's encoded lines are never
// changed in place once written (an upload appends after them, or to a
// copy when they are frozen in the chunks; a cancellation and a freeze
// write new bytes), so the mutex every upload, read and settlement of a
// visit waits for is held only to find them.
func liveLines(id string, l detailLines, batch string) ([]store.FeeDetail, error) {
	// Counted first, every line's framing and key checked: the list is
	// made at its size.
	n := 0
	r := recordReader{b: l.enc}
	for r.off < len(r.b) {
		body := r.bytes()
		_, dbatch, ok := detailKey(body)
		if r.bad || !ok {
			return nil, fmt.Errorf("visit %q: %w", id, errDetailCorrupt)
		}
		if batch == "" || string(dbatch) == batch {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]store.FeeDetail, 0, n)
	s := string(l.enc)
	r = recordReader{b: l.enc}
	for r.off < len(r.b) {
		i, j := r.span()
		body := l.enc[i:j:j]
		if batch != "" {
			if _, dbatch, _ := detailKey(body); string(dbatch) != batch {
				continue
			}
		}
		d, err := decodeDetailIn(id, body, s[i:j])
		if err != nil {
			return nil, fmt.Errorf("visit %q: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// VisitDetails reads a visit and its live lines of a batch under one hold
// of the book's lock (decoding the lines after it: liveLines); see
// store.VisitStore.
func (s *Store) VisitDetails(ctx context.Context, id, batch string) (store.Visit, []store.FeeDetail, error) {
	if err := ctx.Err(); err != nil {
		return store.Visit{}, nil, err
	}
	vmu := s.visitLocks.lock(id)
	b := &s.visits
	b.mu.Lock()
	slot, v, err := b.find(id)
	var enc detailLines
	if err == nil {
		enc = b.detailLines(slot)
	}
	b.mu.Unlock()
	vmu.Unlock()
	if err != nil {
		return store.Visit{}, nil, err
	}
	lines, err := liveLines(id, enc, batch) // outside the lock (liveLines)
	if err != nil {
		return store.Visit{}, nil, err
	}
	return v, lines, nil
}
