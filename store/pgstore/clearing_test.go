package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// lineClearer is an engine.Clearer that returns a case line for every
// case and sums cases and basic fund per institution; onAdd runs in Add.
type lineClearer struct {
	cases []engine.ClearingCase
	onAdd func(i int, c engine.ClearingCase) error
}

func (c *lineClearer) Begin(engine.RunInputs) error { return nil }

func (c *lineClearer) Add(cs engine.ClearingCase) (*engine.CaseLine, error) {
	i := len(c.cases)
	c.cases = append(c.cases, cs)
	if c.onAdd != nil {
		if err := c.onAdd(i, cs); err != nil {
			return nil, err
		}
	}
	return &engine.CaseLine{SettlementID: cs.SettlementID, RequestID: cs.RequestID, InstitutionID: cs.InstitutionID,
		SettleDate: cs.SettleDate, DRGCode: cs.DRGCode, Total: cs.Total, Ratio: engine.RatioOne,
		Kind: engine.CostNormal, Points: engine.MustPoints("100"), PersonalTotal: cs.PersonalTotal, BasicFund: cs.BasicFund}, nil
}

func (c *lineClearer) Finish() (engine.ClearingRun, error) {
	run := engine.ClearingRun{Settlements: int64(len(c.cases))}
	by := map[string]*engine.ClearingLine{}
	for _, cs := range c.cases {
		l := by[cs.InstitutionID]
		if l == nil {
			l = &engine.ClearingLine{InstitutionID: cs.InstitutionID}
			by[cs.InstitutionID] = l
		}
		l.Cases++
		l.BasicFund = l.BasicFund.Add(cs.BasicFund)
		run.PaidTotal = run.PaidTotal.Add(cs.BasicFund)
	}
	for _, l := range by {
		run.Institutions = append(run.Institutions, *l)
	}
	sort.Slice(run.Institutions, func(i, j int) bool { return run.Institutions[i].InstitutionID < run.Institutions[j].InstitutionID })
	return run, nil
}

func (c *lineClearer) ids() map[string]bool {
	out := map[string]bool{}
	for _, cs := range c.cases {
		out[cs.SettlementID] = true
	}
	return out
}

const clrRegion = "330700"

// clearingFixture registers two institutions of clrRegion and one
// employee, and loads n settled inpatient settlements of 2025 over both
// institutions with LoadSettlements.
func clearingFixture(t *testing.T, st *pgstore.Store, n int) []engine.Settlement {
	t.Helper()
	ctx := context.Background()
	for i, id := range []string{"JH-1", "JH-2"} {
		if err := st.PutInstitution(ctx, engine.Institution{ID: id, Name: id, Region: clrRegion, Level: i + 2}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutPerson(ctx, engine.Person{ID: "E1", Name: "e1", Region: clrRegion, Scheme: engine.SchemeEmployee,
		Employment: engine.EmploymentEmployed, ContributionYears: 10}); err != nil {
		t.Fatal(err)
	}
	sts := make([]engine.Settlement, n)
	for i := range sts {
		sts[i] = loadedSettlement(i, fmt.Sprintf("JH-%d", 1+i%2), "E1", engine.Date{Year: 2025, Month: time.Month(1 + i%12), Day: 1 + i%28})
	}
	if err := st.LoadSettlements(ctx, sts); err != nil {
		t.Fatalf("LoadSettlements: %v", err)
	}
	return sts
}

// loadedSettlement is the i-th settlement of a fixture: inpatient, with
// a DRG code, settled under the employee policy of clrRegion.
func loadedSettlement(i int, inst, person string, day engine.Date) engine.Settlement {
	total := engine.MoneyFromFen(int64(100_000 + i*37))
	personal := total.MulRatio(engine.MustRatio("0.3"))
	return engine.Settlement{
		ID: fmt.Sprintf("ST9%011d", i),
		Claim: engine.Claim{RequestID: fmt.Sprintf("load-%d", i), InstitutionID: inst, PersonID: person,
			VisitType: engine.VisitInpatient, SettleDate: day, DRGCode: fmt.Sprintf("G%d", i%7),
			Items: []engine.LineItem{{Code: "A", Quantity: engine.QuantityOf(1), UnitPrice: engine.PriceFromScaled(total.Fen() * 10_000), Amount: total}}},
		State: engine.StateSettled,
		Result: engine.Result{PolicyVersion: "v1", PolicyRegion: clrRegion, PolicyScheme: engine.SchemeEmployee,
			Breakdown: engine.Breakdown{Total: total, InScope: total, BasicFund: total.Sub(personal), FundTotal: total.Sub(personal),
				PersonalTotal: personal, Cash: personal}},
	}
}

func drgSelection(final bool) store.Selection {
	return store.Selection{Kind: engine.ClearingDRG, Region: clrRegion, Scheme: engine.SchemeEmployee, Year: 2025,
		From: engine.Date{Year: 2025, Month: 1, Day: 1}, To: engine.Date{Year: 2025, Month: 12, Day: 31}, Final: final}
}

// countCases counts the stored case lines of a run (of every run when
// runID is "").
func countCases(t *testing.T, st *pgstore.Store, runID string) int64 {
	t.Helper()
	var n int64
	err := st.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{st.Schema(), "clearing_cases"}.Sanitize()+
		" WHERE $1 = '' OR run_id = $1", runID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLoadSettlements stores settlements as given: they read back, their
// request ids replay, and nothing else moves.
func TestLoadSettlements(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	sts := clearingFixture(t, st, 10)
	// Without ids: the sequence gives them.
	extra := []engine.Settlement{loadedSettlement(100, "JH-1", "E1", engine.Date{Year: 2025, Month: 3, Day: 3})}
	extra[0].ID = ""
	if err := st.LoadSettlements(ctx, extra); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSettlement(ctx, sts[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Claim.RequestID != sts[3].Claim.RequestID || !got.Result.Breakdown.PersonalTotal.Equal(sts[3].Result.Breakdown.PersonalTotal) ||
		got.Fingerprint != sts[3].Claim.Fingerprint() || got.State != engine.StateSettled {
		t.Errorf("loaded settlement reads %+v", got)
	}
	again, err := st.Settle(ctx, sts[3].Claim, func(store.PersonYear) (engine.Result, error) {
		t.Error("a loaded request id computed again")
		return engine.Result{}, nil
	})
	if err != nil || again.ID != sts[3].ID {
		t.Errorf("retry of a loaded request: %s, %v", again.ID, err)
	}
	snap, err := st.Snapshot(ctx, "E1", "JH-1", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.BudgetUsed.IsZero() || snap.Accumulators.InpatientCount != 0 {
		t.Errorf("loading moved the state: %+v", snap)
	}
	if extra[0].ID != "" {
		t.Errorf("LoadSettlements modified its argument")
	}
	// A request id loaded twice fails the whole call.
	dup := []engine.Settlement{loadedSettlement(200, "JH-1", "E1", engine.Date{Year: 2025, Month: 3, Day: 3}), sts[0]}
	dup[1].ID = ""
	if err := st.LoadSettlements(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("loading a used request id: %v, want ErrConflict", err)
	}
	if _, err := st.GetSettlement(ctx, dup[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed load stored %s: %v", dup[0].ID, err)
	}
}

// TestMigrationBackfillsClearingColumns writes settlements as version 2 of
// the schema did (no policy region, scheme, DRG code or personal total
// columns; results without a policy region), then opens the store, which
// migrates: the columns are filled from the documents and the persons.
func TestMigrationBackfillsClearingColumns(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sch := pgx.Identifier{schema}.Sanitize()
	for _, q := range []string{
		"CREATE SCHEMA " + sch,
		"CREATE TABLE " + sch + ".medsettle_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)",
		"SET search_path TO " + sch,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range []string{"0001_init.sql", "0002_budget_shards_skip_locked.sql"} {
		raw, err := os.ReadFile("migrations/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(raw)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO medsettle_migrations VALUES ($1, $2, now())", i+1, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO persons VALUES ('P1', 'p1', 'R1', 1, 1, 1, 5, 0), ('P2', 'p2', 'R2', 2, 0, 1, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	// What version 2 wrote: the JSON of Claim and Result as they were
	// then (no PolicyRegion, PolicyScheme), and a newer result that names
	// its policy (a region other than the person's).
	type oldResult struct {
		PolicyVersion string
		Breakdown     engine.Breakdown
	}
	d := engine.MustMoney
	rows := []struct {
		id, person string
		claim      engine.Claim
		result     any
	}{
		{"ST000000000001", "P1", engine.Claim{RequestID: "a", InstitutionID: "H", PersonID: "P1", VisitType: engine.VisitInpatient, DRGCode: "G7"},
			oldResult{PolicyVersion: "v1", Breakdown: engine.Breakdown{Total: d("100.00"), PersonalTotal: d("12.34")}}},
		{"ST000000000002", "P2", engine.Claim{RequestID: "b", InstitutionID: "H", PersonID: "P2", VisitType: engine.VisitOutpatient},
			oldResult{PolicyVersion: "v1", Breakdown: engine.Breakdown{Total: d("50.00"), PersonalTotal: d("50.00")}}},
		{"ST000000000003", "P1", engine.Claim{RequestID: "c", InstitutionID: "H", PersonID: "P1", VisitType: engine.VisitInpatient, DRGCode: "G8"},
			engine.Result{PolicyVersion: "v9", PolicyRegion: "R9", PolicyScheme: engine.SchemeResident,
				Breakdown: engine.Breakdown{Total: d("70.00"), PersonalTotal: d("0.07")}}},
	}
	for _, r := range rows {
		claimDoc, _ := json.Marshal(r.claim)
		resultDoc, _ := json.Marshal(r.result)
		_, err := conn.Exec(ctx, `INSERT INTO settlements (settlement_id, institution_id, request_id, person_id, visit_type,
			settle_date, year, state, fingerprint, claim, result, total, basic_fund, fund_total, account, settled_at)
			VALUES ($1, 'H', $2, $3, $4, '2025-02-01', 2025, 2, 'fp', $5, $6, 1, 1, 1, 0, now())`,
			r.id, r.claim.RequestID, r.person, int16(r.claim.VisitType), claimDoc, resultDoc)
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatalf("migrating from version 2: %v", err)
	}
	defer st.Close()
	want := map[string]struct {
		region   string
		scheme   int16
		drg      string
		personal string
	}{
		"ST000000000001": {"R1", 1, "G7", "12.34"},
		"ST000000000002": {"R2", 2, "", "50.00"},
		"ST000000000003": {"R9", 2, "G8", "0.07"},
	}
	got, err := st.Pool().Query(ctx, "SELECT settlement_id, policy_region, policy_scheme, drg_code, personal_total::text FROM "+
		sch+".settlements ORDER BY settlement_id")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for got.Next() {
		var id, region, drg, personal string
		var scheme int16
		if err := got.Scan(&id, &region, &scheme, &drg, &personal); err != nil {
			t.Fatal(err)
		}
		n++
		w := want[id]
		if region != w.region || scheme != w.scheme || drg != w.drg || personal != w.personal {
			t.Errorf("%s backfilled as (%s, %d, %q, %s), want (%s, %d, %q, %s)", id, region, scheme, drg, personal,
				w.region, w.scheme, w.drg, w.personal)
		}
	}
	if err := got.Err(); err != nil || n != 3 {
		t.Fatalf("%d rows, %v", n, err)
	}
	// The columns are NOT NULL now.
	var nullable int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'settlements'
		AND column_name IN ('policy_region', 'policy_scheme', 'drg_code', 'personal_total') AND is_nullable = 'YES'`, schema).Scan(&nullable); err != nil {
		t.Fatal(err)
	}
	if nullable != 0 {
		t.Errorf("%d of the new columns are nullable", nullable)
	}
	// And settlements written now fill them: a DRG run reads the backfilled
	// inpatient settlement of P1 under (R1, employee).
	if err := st.PutInstitution(ctx, engine.Institution{ID: "H", Name: "h", Region: "R1", Level: 1}); err != nil {
		t.Fatal(err)
	}
	c := &lineClearer{}
	sel := store.Selection{Kind: engine.ClearingDRG, Region: "R1", Scheme: engine.SchemeEmployee, Year: 2025,
		From: engine.Date{Year: 2025, Month: 1, Day: 1}, To: engine.Date{Year: 2025, Month: 12, Day: 31}}
	if _, err := st.RunClearing(ctx, sel, c, nil); err != nil {
		t.Fatal(err)
	}
	if len(c.cases) != 1 || c.cases[0].SettlementID != "ST000000000001" || c.cases[0].DRGCode != "G7" ||
		!c.cases[0].PersonalTotal.Equal(d("12.34")) || !c.cases[0].Total.Equal(d("1")) {
		t.Errorf("DRG run over the migrated rows read %+v", c.cases)
	}
}

// TestClearingSnapshotExcludesConcurrentCommit commits a settlement and a
// reversal through other connections from inside the run's first Add: the
// run reads neither (the new settlement is not counted, not given, not
// stored as a case line; the reversed one is read as settled), and the
// next run reads both.
func TestClearingSnapshotExcludesConcurrentCommit(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	sts := clearingFixture(t, st, 25_000)
	late := loadedSettlement(99_999, "JH-2", "E1", engine.Date{Year: 2025, Month: 6, Day: 6})
	var once sync.Once
	var innerErr error
	c := &lineClearer{onAdd: func(int, engine.ClearingCase) error {
		once.Do(func() {
			if innerErr = st.LoadSettlements(ctx, []engine.Settlement{late}); innerErr != nil {
				return
			}
			_, innerErr = st.Reverse(ctx, store.Reversal{RequestID: "rv", SettlementID: sts[7].ID, Reason: "test"})
		})
		return innerErr
	}}
	var totals []int64
	run, err := st.RunClearing(ctx, drgSelection(false), c, func(_, total int64) { totals = append(totals, total) })
	if err != nil {
		t.Fatal(err)
	}
	ids := c.ids()
	if len(c.cases) != len(sts) || ids[late.ID] || !ids[sts[7].ID] {
		t.Errorf("run read %d cases (the late one: %t, the one reversed during the run: %t), want %d, false, true",
			len(c.cases), ids[late.ID], ids[sts[7].ID], len(sts))
	}
	for _, total := range totals {
		if total != int64(len(sts)) {
			t.Errorf("progress total %d, want %d", total, len(sts))
		}
	}
	if n := countCases(t, st, run.RunID); n != int64(len(sts)) {
		t.Errorf("%d case lines stored, want %d", n, len(sts))
	}

	next := &lineClearer{}
	if _, err := st.RunClearing(ctx, drgSelection(false), next, nil); err != nil {
		t.Fatal(err)
	}
	ids = next.ids()
	if len(next.cases) != len(sts) || !ids[late.ID] || ids[sts[7].ID] {
		t.Errorf("the next run read %d cases (late: %t, reversed: %t), want %d, true, false", len(next.cases), ids[late.ID], ids[sts[7].ID], len(sts))
	}
	if _, err := st.GetClearingRun(ctx, run.RunID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the replaced draft: %v, want ErrNotFound", err)
	}
	if n := countCases(t, st, ""); n != int64(len(sts)) {
		t.Errorf("%d case lines stored in all, want only the new draft's %d", n, len(sts))
	}
}

// TestCancelledRunStoresNothing cancels a draft run after 15,000 of its
// 40,000 cases, when the COPY of its case lines is well under way: the run
// fails with context.Canceled, no case line of it stays, and the earlier
// draft of the key is as it was. A run whose COPY fails (a case line
// twice) fails the same way.
func TestCancelledRunStoresNothing(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	sts := clearingFixture(t, st, 40_000)
	first, err := st.RunClearing(ctx, drgSelection(false), &lineClearer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.StatementCases(ctx, first.RunID, "JH-1", "", 50)
	if err != nil || len(page) != 50 {
		t.Fatalf("first draft's statement: %d lines, %v", len(page), err)
	}
	unchanged := func(what string, stored int) {
		t.Helper()
		got, err := st.GetClearingRun(ctx, first.RunID)
		if err != nil || got.Settlements != int64(len(sts)) || len(got.Institutions) != 2 {
			t.Errorf("%s: the earlier draft reads %+v, %v", what, got, err)
		}
		again, err := st.StatementCases(ctx, first.RunID, "JH-1", "", 50)
		if err != nil || len(again) != 50 || again[49].SettlementID != page[49].SettlementID {
			t.Errorf("%s: the earlier draft's statement changed (%v)", what, err)
		}
		if n := countCases(t, st, ""); n != int64(stored) {
			t.Errorf("%s: %d case lines stored, want %d", what, n, stored)
		}
	}
	for _, final := range []bool{false, true} {
		cctx, cancel := context.WithCancel(ctx)
		c := &lineClearer{onAdd: func(i int, _ engine.ClearingCase) error {
			if i == 15_000 {
				cancel()
			}
			return nil
		}}
		_, err := st.RunClearing(cctx, drgSelection(final), c, nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled run (final %t): %v, want context.Canceled", final, err)
		}
		unchanged(fmt.Sprintf("after a cancelled run (final %t)", final), len(sts))
	}
	// A case line given twice breaks the case lines' primary key: the COPY
	// fails, and the run with it.
	var prev *engine.CaseLine
	dupl := &dupClearer{lineClearer: &lineClearer{}, prev: &prev}
	if _, err := st.RunClearing(ctx, drgSelection(false), dupl, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a run whose case lines repeat: %v, want the COPY's unique violation (ErrConflict)", err)
	}
	unchanged("after a failed COPY", len(sts))
	// The pool is usable afterwards: connections broken by the
	// cancellation were dropped.
	if _, err := st.RunClearing(ctx, drgSelection(true), &lineClearer{}, nil); err != nil {
		t.Fatalf("a final run after the failures: %v", err)
	}
	unchanged("after a final run", 2*len(sts)) // it leaves the draft alone and adds its own lines
}

// dupClearer repeats the 20,000th case line.
type dupClearer struct {
	*lineClearer
	prev **engine.CaseLine
}

func (d *dupClearer) Add(cs engine.ClearingCase) (*engine.CaseLine, error) {
	l, err := d.lineClearer.Add(cs)
	if len(d.cases) == 20_000 {
		*d.prev = l
	}
	if len(d.cases) == 20_001 {
		return *d.prev, err
	}
	return l, err
}

// TestConcurrentFinalsOneWins starts four final runs of one scope with
// overlapping periods at once; each waits in Add until all four have
// passed the check made before reading, so that only the check at commit,
// under the scope's advisory lock, can tell them apart: exactly one is
// stored, the others fail with engine.ErrFinalExists and store nothing.
func TestConcurrentFinalsOneWins(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	sts := clearingFixture(t, st, 5_000)
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	errs := make([]error, n)
	runs := make([]engine.ClearingRun, n)
	var wg sync.WaitGroup
	for i := range n {
		sel := drgSelection(true)
		sel.From = engine.Date{Year: 2025, Month: time.Month(1 + i), Day: 1} // all overlap December
		var once sync.Once
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &lineClearer{onAdd: func(int, engine.ClearingCase) error {
				once.Do(func() {
					arrived.Done()
					select {
					case <-all:
					case <-time.After(20 * time.Second):
					}
				})
				return nil
			}}
			runs[i], errs[i] = st.RunClearing(ctx, sel, c, nil)
			once.Do(arrived.Done)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("finals %d and %d were both stored", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, engine.ErrFinalExists):
			t.Errorf("final %d: %v, want nil or ErrFinalExists", i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no final was stored: %v", errs)
	}
	var finals int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{st.Schema(), "clearing_runs"}.Sanitize()+" WHERE final").Scan(&finals); err != nil {
		t.Fatal(err)
	}
	if finals != 1 {
		t.Errorf("%d final runs stored, want 1", finals)
	}
	want := 0
	for _, s := range sts {
		if s.Claim.SettleDate.Month >= time.Month(1+won) {
			want++
		}
	}
	if n := countCases(t, st, ""); n != int64(want) || countCases(t, st, runs[won].RunID) != int64(want) {
		t.Errorf("%d case lines stored, want the winner's %d", n, want)
	}
}
