package memstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// runRecord is a stored clearing run with its case lines by institution,
// each list ordered by settlement id.
type runRecord struct {
	run   engine.ClearingRun
	cases map[string][]engine.CaseLine
}

const (
	// cancelEvery is how many cases a run feeds between two looks at its
	// context.
	cancelEvery = 1024
	// progressEvery is how many cases a run feeds between two progress
	// reports (besides the first and the last).
	progressEvery = 10000
)

// clearingSnapshot is what a run reads, taken under the read lock: the
// selected settlements as a clearer reads them, the run's other inputs and
// the registry level of every institution the settlements name. The
// settlements' texts are all in one string (one allocation per run, not
// per case), and the records are read once.
type clearingSnapshot struct {
	inputs engine.RunInputs
	cases  []snapCase
	texts  []byte // the cases' texts while the snapshot is taken
	text   string // then as one string
	levels map[string]int
}

// snapCase is a selected settlement: its texts are spans of the
// snapshot's text.
type snapCase struct {
	id, requestID, institutionID, drgCode span
	visitType                             engine.VisitType
	settleDate                            engine.Date
	total, personalTotal, basicFund       engine.Money
}

// add selects the settlement of rec, whose view is v.
func (snap *clearingSnapshot) add(rec []byte, v *recordView) {
	text := func(sp span) span {
		i := len(snap.texts)
		snap.texts = append(snap.texts, sp.in(rec)...)
		return span{i, len(snap.texts)}
	}
	snap.cases = append(snap.cases, snapCase{
		id: text(v.id), requestID: text(v.requestID), institutionID: text(v.institutionID), drgCode: text(v.drgCode),
		visitType: v.visitType, settleDate: v.settleDate,
		total: v.breakdown.Total, personalTotal: v.breakdown.PersonalTotal, basicFund: v.breakdown.BasicFund,
	})
}

// RunClearing reads one snapshot of what sel selects, feeds it to c and
// stores the run; see store.ClearingStore. The snapshot is taken under the
// store's read lock; Begin, Add and Finish are called without any lock
// held, so settlements and reversals go on while a run computes (they are
// not in its snapshot), and a Clearer may even call the store.
func (s *Store) RunClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	if err := ctx.Err(); err != nil {
		return engine.ClearingRun{}, err
	}
	key := selectionRun(sel)
	s.mu.RLock()
	snap, err := s.selectLocked(sel, key)
	s.mu.RUnlock()
	if err != nil {
		return engine.ClearingRun{}, err
	}
	cases, err := feed(ctx, snap, c, progress)
	if err != nil {
		return engine.ClearingRun{}, err
	}
	run, err := c.Finish()
	if err != nil {
		return engine.ClearingRun{}, fmt.Errorf("clearing run %s: %w", key.RunKey(), err)
	}
	if err := ctx.Err(); err != nil {
		return engine.ClearingRun{}, err
	}
	run.Kind, run.Region, run.Scheme, run.Year = key.Kind, key.Region, key.Scheme, key.Year
	run.From, run.To, run.ContractID, run.Final = key.From, key.To, key.ContractID, key.Final
	rec := &runRecord{run: cloneRun(run), cases: cases}

	s.mu.Lock()
	defer s.mu.Unlock()
	if sel.Final {
		// Another final run may have committed while this one computed.
		if err := s.finalConflictLocked(key); err != nil {
			return engine.ClearingRun{}, err
		}
	}
	s.runSeq++
	rec.run.RunID = fmt.Sprintf("CR%012d", s.runSeq)
	s.runs[rec.run.RunID] = rec
	if sel.Final {
		s.finals = append(s.finals, rec.run.RunID)
	} else {
		if old, ok := s.drafts[key.RunKey()]; ok {
			delete(s.runs, old)
		}
		s.drafts[key.RunKey()] = rec.run.RunID
	}
	return cloneRun(rec.run), nil
}

// selectionRun is the identity of the run sel asks for: what RunKey,
// FinalScope and ConflictsWithFinal read, and what the stored run copies.
func selectionRun(sel store.Selection) engine.ClearingRun {
	return engine.ClearingRun{
		Kind: sel.Kind, Region: sel.Region, Scheme: sel.Scheme, Year: sel.Year,
		From: sel.From, To: sel.To, ContractID: sel.ContractID, Final: sel.Final,
	}
}

// finalConflictLocked returns engine.ErrFinalExists if a stored final run
// conflicts with the final run r. s.mu must be held.
func (s *Store) finalConflictLocked(r engine.ClearingRun) error {
	for _, id := range s.finals {
		o := s.runs[id].run
		if r.ConflictsWithFinal(o) {
			return fmt.Errorf("final run %s covers %s to %s: %w", o.RunID, o.From, o.To, engine.ErrFinalExists)
		}
	}
	return nil
}

// selectLocked takes a run's snapshot (API.md, "Clearing": which
// settlements a run reads). s.mu must be held.
func (s *Store) selectLocked(sel store.Selection, key engine.ClearingRun) (clearingSnapshot, error) {
	if sel.Final {
		if err := s.finalConflictLocked(key); err != nil {
			return clearingSnapshot{}, err
		}
	}
	snap := clearingSnapshot{levels: map[string]int{}}
	counted := func(v *recordView) bool {
		return v.state == engine.StateSettled &&
			v.settleDate.Compare(sel.From) >= 0 && v.settleDate.Compare(sel.To) <= 0
	}
	switch sel.Kind {
	case engine.ClearingDRG, engine.ClearingBudget:
		var ids []string
		s.institutions.Range(func(id, v any) bool {
			if v.(engine.Institution).Region == sel.Region {
				ids = append(ids, id.(string))
			}
			return true
		})
		sort.Strings(ids)
		for _, id := range ids {
			in, _ := s.institution(id)
			in.Budgets = append([]engine.Budget(nil), in.Budgets...)
			snap.inputs.Institutions = append(snap.inputs.Institutions, in)
			snap.levels[id] = in.Level
			if _, ok := in.Budget(sel.Year); sel.Kind == engine.ClearingBudget && !ok {
				continue
			}
			for _, slot := range s.byInstitution[id] {
				rec := s.recs.bytes(slot)
				v, err := viewRecord(rec)
				if err != nil {
					return clearingSnapshot{}, err
				}
				if !counted(&v) {
					continue
				}
				if sel.Kind == engine.ClearingDRG {
					if v.visitType != engine.VisitInpatient || string(v.policyRegion.in(rec)) != sel.Region || v.policyScheme != sel.Scheme {
						continue
					}
				} else if !hasVisitType(sel.VisitTypes, v.visitType) {
					continue
				}
				snap.add(rec, &v)
			}
		}
	case engine.ClearingCapitation:
		con, ok := s.contracts[sel.ContractID]
		if !ok {
			return clearingSnapshot{}, fmt.Errorf("capitation contract %q: %w", sel.ContractID, store.ErrNotFound)
		}
		snap.inputs.Members = int64(len(con.members))
		members := make([]string, 0, len(con.members))
		for id := range con.members {
			members = append(members, id)
		}
		sort.Strings(members)
		for _, pid := range members {
			for _, slot := range s.settlementSlots(pid) {
				rec := s.recs.bytes(slot)
				v, err := viewRecord(rec)
				if err != nil {
					return clearingSnapshot{}, err
				}
				if !counted(&v) || !hasVisitType(sel.VisitTypes, v.visitType) {
					continue
				}
				snap.add(rec, &v)
				if _, ok := snap.levels[string(v.institutionID.in(rec))]; !ok {
					in := string(v.institutionID.in(rec))
					inst, _ := s.institution(in)
					snap.levels[in] = inst.Level
				}
			}
		}
	default:
		return clearingSnapshot{}, &engine.ValidationError{Violations: []engine.Violation{{
			Field: "kind", Description: fmt.Sprintf("must be a clearing kind, got %s", sel.Kind)}}}
	}
	snap.text, snap.texts = string(snap.texts), nil
	return snap, nil
}

func hasVisitType(vs []engine.VisitType, v engine.VisitType) bool {
	for _, t := range vs {
		if t == v {
			return true
		}
	}
	return false
}

// feed gives a snapshot to c (Begin, then Add for each case), reporting
// progress and looking at ctx every cancelEvery cases, and returns the case
// lines Add returned, by institution and ordered by settlement id.
func feed(ctx context.Context, snap clearingSnapshot, c engine.Clearer, progress store.Progress) (map[string][]engine.CaseLine, error) {
	total := int64(len(snap.cases))
	reported := int64(-1)
	report := func(n int64) {
		if progress != nil && n != reported {
			progress(n, total)
			reported = n
		}
	}
	report(0)
	if err := c.Begin(snap.inputs); err != nil {
		return nil, fmt.Errorf("clearing: begin: %w", err)
	}
	lines := map[string][]engine.CaseLine{}
	for i := range snap.cases {
		if i%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sc, t := &snap.cases[i], snap.text
		cs := engine.ClearingCase{
			SettlementID:  sc.id.of(t),
			RequestID:     sc.requestID.of(t),
			InstitutionID: sc.institutionID.of(t),
			Level:         snap.levels[sc.institutionID.of(t)],
			VisitType:     sc.visitType,
			SettleDate:    sc.settleDate,
			DRGCode:       sc.drgCode.of(t),
			Total:         sc.total,
			PersonalTotal: sc.personalTotal,
			BasicFund:     sc.basicFund,
		}
		line, err := c.Add(cs)
		if err != nil {
			return nil, fmt.Errorf("clearing: settlement %s: %w", cs.SettlementID, err)
		}
		if line != nil {
			l := *line
			if l.InstitutionID == "" {
				l.InstitutionID = cs.InstitutionID
			}
			lines[l.InstitutionID] = append(lines[l.InstitutionID], l)
		}
		if n := int64(i + 1); n%progressEvery == 0 {
			report(n)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	report(total)
	for _, ls := range lines {
		sort.Slice(ls, func(i, j int) bool { return ls[i].SettlementID < ls[j].SettlementID })
	}
	return lines, nil
}

// GetClearingRun reads a stored run with its institution lines. Returns
// store.ErrNotFound if there is none (or it was replaced).
func (s *Store) GetClearingRun(_ context.Context, runID string) (engine.ClearingRun, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.runs[runID]
	if !ok {
		return engine.ClearingRun{}, fmt.Errorf("clearing run %q: %w", runID, store.ErrNotFound)
	}
	return cloneRun(rec.run), nil
}

// StatementCases lists an institution's case lines of a run by settlement
// id, after the settlement id after, at most limit (limit ≤ 0: all).
// Returns store.ErrNotFound if the run does not exist; an institution
// without cases gets an empty list.
func (s *Store) StatementCases(_ context.Context, runID, institutionID, after string, limit int) ([]engine.CaseLine, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.runs[runID]
	if !ok {
		return nil, fmt.Errorf("clearing run %q: %w", runID, store.ErrNotFound)
	}
	ls := rec.cases[institutionID]
	from := sort.Search(len(ls), func(i int) bool { return ls[i].SettlementID > after })
	to := len(ls)
	if limit > 0 && from+limit < to {
		to = from + limit
	}
	return append([]engine.CaseLine{}, ls[from:to]...), nil
}

// cloneRun is a deep copy of a run.
func cloneRun(r engine.ClearingRun) engine.ClearingRun {
	out := r
	out.Institutions = append([]engine.ClearingLine(nil), r.Institutions...)
	if r.Capitation != nil {
		c := *r.Capitation
		c.Shares = append([]engine.PartyAmount(nil), c.Shares...)
		c.Components = append([]engine.ComponentClearing(nil), c.Components...)
		out.Capitation = &c
	}
	return out
}
