package benchmarks

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// EnvBenchURL names the database the million-settlement clearing
// benchmarks load their dataset into, in a schema of its own that is
// kept between runs (bench_clearing_<hash of the dataset's key>; drop it
// to reload).
// Without it they use MEDSETTLE_TEST_DATABASE_URL or a throwaway cluster
// (fsync off), and run only when -bench names them.
const EnvBenchURL = "MEDSETTLE_BENCH_DATABASE_URL"

// clearingAllowed skips the million-settlement benchmarks unless asked
// for: loading a million settlements takes minutes, so `-bench .` alone
// does not run them.
func clearingAllowed(b *testing.B) {
	b.Helper()
	if os.Getenv(EnvBenchURL) != "" {
		return
	}
	if f := flag.Lookup("test.bench"); f != nil && strings.Contains(f.Value.String(), "Clearing") {
		return
	}
	b.Skipf("the clearing benchmarks load 1,000,000 settlements: set %s or name them in -bench (e.g. -bench Clearing)", EnvBenchURL)
}

var (
	pgClearingMu sync.Mutex
	pgClearing   = map[string]*pgstore.Store{}
)

// clearingPG returns a pgstore holding the dataset, loading it the first
// time (the loaded schema is marked, and reused by later processes).
func clearingPG(b *testing.B, d ClearingDataset) *pgstore.Store {
	b.Helper()
	pgClearingMu.Lock()
	defer pgClearingMu.Unlock()
	if st, ok := pgClearing[d.Key()]; ok {
		return st
	}
	url := os.Getenv(EnvBenchURL)
	if url == "" {
		url = pgtest.URL(b)
	}
	ctx := context.Background()
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.Key()))
	schema := fmt.Sprintf("bench_clearing_%08x", h.Sum32())
	marker := pgx.Identifier{schema, "bench_dataset"}.Sanitize()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var key string
	if err := conn.QueryRow(ctx, "SELECT key FROM "+marker).Scan(&key); err != nil || key != d.Key() {
		b.Logf("loading %d settlements into schema %s", d.Settlements, schema)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			b.Fatal(err)
		}
		st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := d.Load(ctx, st, nil); err != nil {
			b.Fatalf("load: %v", err)
		}
		b.Logf("loaded in %s", time.Since(start).Round(time.Second))
		st.Close()
		// What autovacuum does after a bulk load: statistics, and the
		// visibility map that lets the runs scan the indexes only.
		for _, q := range []string{
			"VACUUM (ANALYZE) " + pgx.Identifier{schema, "settlements"}.Sanitize(),
			"CREATE TABLE " + marker + " (key text NOT NULL)",
			"INSERT INTO " + marker + " VALUES ('" + d.Key() + "')",
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	}
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	pgClearing[d.Key()] = st
	return st
}

// clearingMem returns a memstore holding the dataset, loaded afresh (not
// kept, so that its memory is not counted by the pgstore runs).
func clearingMem(b *testing.B, d ClearingDataset) store.Store {
	b.Helper()
	st := memstore.New()
	var loader any = st
	l, ok := loader.(SettlementLoader)
	if !ok {
		b.Skip("memstore has no LoadSettlements")
	}
	if err := d.Load(context.Background(), l, nil); err != nil {
		b.Fatalf("load: %v", err)
	}
	return st
}

// peakRSS reads the process's resident high-water mark (VmHWM) in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS returns the memory the loader left to the system and
// resets VmHWM to the current resident size (Linux ≥ 4.0).
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// pgBackendPeak samples, every 50 ms until stop is called, the private
// resident memory (RssAnon) of the database's backends, when the server
// runs on this machine and its /proc is readable; it returns the largest
// seen, in bytes (0 when it could not read them).
func pgBackendPeak(st *pgstore.Store) (stop func() int64) {
	done := make(chan struct{})
	result := make(chan int64, 1)
	go func() {
		var peak int64
		ctx := context.Background()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			rows, err := st.Pool().Query(ctx, "SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'")
			if err == nil {
				pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
				for _, pid := range pids {
					if v := rssAnon(pid); v > peak {
						peak = v
					}
				}
			}
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(done); return <-result }
}

func rssAnon(pid int32) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

var (
	summariesMu sync.Mutex
	summaries   = map[string]engine.ClearingRun{}
)

// sameSummary fails unless every store computed the same run for name.
func sameSummary(b *testing.B, name string, run engine.ClearingRun) {
	b.Helper()
	summariesMu.Lock()
	defer summariesMu.Unlock()
	prev, ok := summaries[name]
	if !ok {
		summaries[name] = run
		return
	}
	if run.Settlements != prev.Settlements || run.Ungrouped != prev.Ungrouped || !run.PaidTotal.Equal(prev.PaidTotal) ||
		!run.TotalPoints.Equal(prev.TotalPoints) || !run.PointValue.Equal(prev.PointValue) || len(run.Institutions) != len(prev.Institutions) {
		b.Errorf("%s: the stores disagree: %d settlements (%d ungrouped), paid %s, %s points at %s, %d lines; before: %d (%d), %s, %s at %s, %d",
			name, run.Settlements, run.Ungrouped, run.PaidTotal, run.TotalPoints, run.PointValue, len(run.Institutions),
			prev.Settlements, prev.Ungrouped, prev.PaidTotal, prev.TotalPoints, prev.PointValue, len(prev.Institutions))
	}
}

// benchRun times RunClearing of sel over the dataset, a new clearer each
// time (the runs are drafts: each replaces the one before, case lines
// included). It reports the settlements read per second, the process's
// resident high-water mark during the runs and, on PostgreSQL, the
// largest private memory of a backend.
func benchRun(b *testing.B, st store.Store, name string, sel store.Selection, want int64, newClearer func() engine.Clearer) {
	b.Helper()
	ctx := context.Background()
	var stopPG func() int64
	pg, isPG := st.(*pgstore.Store)
	resetPeakRSS()
	if isPG {
		stopPG = pgBackendPeak(pg)
	}
	var run engine.ClearingRun
	var reports int
	start := time.Now()
	for b.Loop() {
		var err error
		run, err = st.RunClearing(ctx, sel, newClearer(), func(int64, int64) { reports++ })
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	hwm := peakRSS()
	b.ReportMetric(float64(want)*float64(b.N)/elapsed.Seconds(), "settlements/s")
	b.ReportMetric(float64(hwm)/(1<<20), "VmHWM-MB")
	if isPG {
		b.ReportMetric(float64(stopPG())/(1<<20), "pg-backend-MB")
	}
	if run.Settlements != want {
		b.Fatalf("the run counted %d settlements, want %d", run.Settlements, want)
	}
	if reports < int(want/10_000) {
		b.Errorf("%d progress reports for %d settlements", reports, want)
	}
	sameSummary(b, name, run)
	if isPG && sel.Kind == engine.ClearingDRG {
		var lines int64
		err := pg.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{pg.Schema(), "clearing_cases"}.Sanitize()+
			" WHERE run_id = $1", run.RunID).Scan(&lines)
		if err != nil || lines != run.Settlements-run.Ungrouped {
			b.Errorf("%d case lines stored for %d grouped cases (%v)", lines, run.Settlements-run.Ungrouped, err)
		}
	}
}

// forStores runs fn on PostgreSQL, then on the embedded store.
func forStores(b *testing.B, d ClearingDataset, fn func(b *testing.B, st store.Store)) {
	clearingAllowed(b)
	b.Run("pgstore", func(b *testing.B) { fn(b, clearingPG(b, d)) })
	b.Run("memstore", func(b *testing.B) { fn(b, clearingMem(b, d)) })
}

// BenchmarkClearingDRG1M is a DRG run over a year of 1,000,000 inpatient
// settlements of 300 institutions and 600 groups: one snapshot read,
// every case scored, 970,000 case lines stored with the run (replacing
// the previous draft's).
func BenchmarkClearingDRG1M(b *testing.B) {
	d := MillionSettlements()
	rules := d.DRG()
	forStores(b, d, func(b *testing.B, st store.Store) {
		benchRun(b, st, "DRG", d.DRGSelection(), int64(d.Settlements), func() engine.Clearer {
			c, err := engine.NewDRGClearer(rules, d.DRGBudget())
			if err != nil {
				b.Fatal(err)
			}
			return c
		})
	})
}

// BenchmarkClearingBudget1M is the BUDGET run of the same year: the
// 1,000,000 settlements summed per institution against its budget.
func BenchmarkClearingBudget1M(b *testing.B) {
	d := MillionSettlements()
	rules := d.BudgetRules()
	forStores(b, d, func(b *testing.B, st store.Store) {
		benchRun(b, st, "BUDGET", d.BudgetSelection(), int64(d.Settlements), func() engine.Clearer {
			return engine.NewBudgetClearer(rules, d.Year)
		})
	})
}

// BenchmarkClearingCapitation100k is the capitation run of a contract of
// 100,000 members, whose 1,000,000 settlements of the year it reads.
func BenchmarkClearingCapitation100k(b *testing.B) {
	d := MillionSettlements()
	con := d.Contract()
	forStores(b, d, func(b *testing.B, st store.Store) {
		benchRun(b, st, "CAPITATION", d.CapitationSelection(), int64(d.Settlements), func() engine.Clearer {
			return engine.NewCapitationClearer(&con)
		})
	})
}

// TestClearingDatasetSmall loads a small dataset of the same shape into
// both stores and checks that the three runs agree between them, that
// every settlement is read and the DRG case lines are stored.
func TestClearingDatasetSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 6,000 settlements into PostgreSQL")
	}
	d := ClearingDataset{Seed: 7, Region: "330700", Scheme: engine.SchemeEmployee, Year: 2026,
		Settlements: 6_000, Institutions: 30, Groups: 60, Persons: 1_000}
	ctx := context.Background()
	url := pgtest.URL(t)
	pg, err := pgstore.Open(ctx, url, pgstore.Options{Schema: pgtest.Schema(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	mem := memstore.New()
	var loader any = mem
	memLoader, ok := loader.(SettlementLoader)
	if !ok {
		t.Skip("memstore has no LoadSettlements")
	}
	for _, l := range []SettlementLoader{pg, memLoader} {
		if err := d.Load(ctx, l, nil); err != nil {
			t.Fatalf("load: %v", err)
		}
	}
	con := d.Contract()
	for _, tc := range []struct {
		sel store.Selection
		c   func() engine.Clearer
	}{
		{d.DRGSelection(), func() engine.Clearer {
			c, err := engine.NewDRGClearer(d.DRG(), d.DRGBudget())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{d.BudgetSelection(), func() engine.Clearer { return engine.NewBudgetClearer(d.BudgetRules(), d.Year) }},
		{d.CapitationSelection(), func() engine.Clearer { return engine.NewCapitationClearer(&con) }},
	} {
		var runs []engine.ClearingRun
		for _, st := range []store.Store{pg, mem} {
			run, err := st.RunClearing(ctx, tc.sel, tc.c(), nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.sel.Kind, err)
			}
			if run.Settlements != int64(d.Settlements) {
				t.Errorf("%s read %d settlements, want %d", tc.sel.Kind, run.Settlements, d.Settlements)
			}
			runs = append(runs, run)
		}
		a, b := runs[0], runs[1]
		if !a.PaidTotal.Equal(b.PaidTotal) || !a.TotalPoints.Equal(b.TotalPoints) || !a.PointValue.Equal(b.PointValue) ||
			a.Ungrouped != b.Ungrouped || len(a.Institutions) != len(b.Institutions) || !a.Budget.Equal(b.Budget) {
			t.Errorf("%s: pgstore %+v\nmemstore %+v", tc.sel.Kind, a, b)
		}
		for i := range a.Institutions {
			if x, y := a.Institutions[i], b.Institutions[i]; x.InstitutionID != y.InstitutionID || !x.Payment.Equal(y.Payment) || !x.Paid.Equal(y.Paid) {
				t.Errorf("%s: line %d: %+v vs %+v", tc.sel.Kind, i, x, y)
			}
		}
		if tc.sel.Kind == engine.ClearingDRG {
			if a.Ungrouped == 0 || a.Ungrouped > int64(d.Settlements)/10 {
				t.Errorf("DRG: %d ungrouped of %d", a.Ungrouped, d.Settlements)
			}
			var n int
			for _, in := range a.Institutions {
				ls, err := pg.StatementCases(ctx, a.RunID, in.InstitutionID, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(ls)) != in.Cases {
					t.Errorf("DRG: %s has %d case lines for %d cases", in.InstitutionID, len(ls), in.Cases)
				}
				n += len(ls)
			}
			if int64(n) != a.Settlements-a.Ungrouped {
				t.Errorf("DRG: %d case lines for %d grouped cases", n, a.Settlements-a.Ungrouped)
			}
		}
	}
}
