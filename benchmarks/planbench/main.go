// Command planbench is `make plan-bench`: issue 11's target, a
// contribution plan for 1,000,000 residents on PostgreSQL in at most 20 s
// with the server under 300 MB. It builds bin/medsettle, starts a
// throwaway PostgreSQL cluster (fsync on, every other setting the
// default), starts `medsettle serve --demo` on it, loads the residents
// with dated identities (COPY into the persons table, or -load api:
// ImportPersons calls), runs VACUUM (ANALYZE) on
// the persons table, then times `medsettle plan --csv` (and one --diff
// against the previous plan) as a user runs it, reading the server's
// peak resident size (VmHWM of /proc/PID/status, reset before each run)
// and the plan command's own. Each run's summary is checked against
// totals computed here with the engine.
//
// Usage (from the repository root):
//
//	go run ./benchmarks/planbench [-persons 1000000] [-runs 3] [-load copy|api] [-streams 2] [-database-url URL]
//
// The method and the figures are in benchmarks/README.md, "Contribution
// plan (issue 11)".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/medsettle/medsettle/benchmarks/benchbuild"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgcluster"
)

// Issue 11's target.
const (
	targetWall = 20 * time.Second
	targetKB   = 300 * 1024
)

// options are the command's flags.
type options struct {
	persons, runs, streams int
	databaseURL            string
	load                   string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "planbench:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("planbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.persons, "persons", 1_000_000, "residents to import and plan")
	fs.IntVar(&o.runs, "runs", 3, "timed plan runs (the first with the caches as the import left them)")
	fs.IntVar(&o.streams, "streams", 2, "ImportPersons calls at once while loading")
	fs.StringVar(&o.load, "load", "copy", "how the residents are loaded: copy (COPY into the persons table, fast) or api (ImportPersons calls, as an operator would)")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL to use instead of a throwaway cluster (a fresh schema is made and dropped)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.persons < 1 || o.runs < 1 || o.streams < 1 {
		return errors.New("-persons, -runs and -streams must be at least 1")
	}
	if o.load != "copy" && o.load != "api" {
		return fmt.Errorf("-load %q: copy or api", o.load)
	}
	step := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	root, err := benchbuild.RepoRoot("planbench")
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "medsettle-planbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	step("building bin/medsettle")
	bin, err := benchbuild.Binary(ctx, root)
	if err != nil {
		return err
	}

	url, schema := o.databaseURL, pgstore.DefaultSchema
	if url == "" {
		step("starting a throwaway PostgreSQL cluster (fsync on)")
		c, err := pgcluster.Start(pgcluster.Options{Durable: true})
		if err != nil {
			return fmt.Errorf("%w; or give -database-url", err)
		}
		defer c.Stop()
		url = c.URL
	} else {
		schema = fmt.Sprintf("planbench_%d", time.Now().UnixNano())
		defer func() { _ = dropSchema(url, schema) }()
	}
	dbInfo, err := describeDatabase(ctx, url)
	if err != nil {
		return err
	}
	s, err := startServer(ctx, bin, work, []string{"--database-url", url, "--database-schema", schema})
	if err != nil {
		return err
	}
	defer s.stop()

	// The demo's own residents of 610300, before the import: the
	// baseline the checks add the generated residents to.
	base, err := runPlan(ctx, bin, s, "--csv", filepath.Join(work, "demo.csv"))
	if err != nil {
		return err
	}
	want, err := expectedTotals(o.persons)
	if err != nil {
		return err
	}

	start := time.Now()
	if o.load == "api" {
		step("importing %d residents with dated identities (%d ImportPersons calls at once)", o.persons, o.streams)
		last := time.Now()
		err = importResidents(ctx, s.addr, o.persons, o.streams, func(done int64) {
			if time.Since(last) > 5*time.Second || done == int64(o.persons) {
				last = time.Now()
				step("  %d imported", done)
			}
		})
	} else {
		step("copying %d residents with dated identities into %s.persons", o.persons, schema)
		err = copyResidents(ctx, url, schema, o.persons)
	}
	if err != nil {
		return err
	}
	importTime := time.Since(start)
	afterImport, _ := memoryKB(s.cmd.Process.Pid, "VmHWM")
	vacuum, err := vacuumPersons(ctx, url, schema)
	if err != nil {
		return fmt.Errorf("VACUUM (ANALYZE): %w", err)
	}

	var runs []planRun
	planCSV := filepath.Join(work, "plan.csv")
	for i := range o.runs {
		step("plan run %d of %d", i+1, o.runs)
		r, err := runPlan(ctx, bin, s, "--csv", planCSV)
		if err != nil {
			return err
		}
		if err := r.summary.check(base.summary, want); err != nil {
			return err
		}
		runs = append(runs, r)
	}
	step("plan run with --diff against the previous plan")
	diff, err := runPlan(ctx, bin, s, "--diff", planCSV, "--diff-out", filepath.Join(work, "changes.csv"), "--csv", filepath.Join(work, "plan2.csv"))
	if err != nil {
		return err
	}
	if err := diff.summary.check(base.summary, want); err != nil {
		return err
	}
	fi, err := os.Stat(planCSV)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "planbench: %d residents of %s (plus the demo's %d) on %s; %d CPUs, %s\n",
		o.persons, planRegion, base.summary.persons, dbInfo, runtime.NumCPU(), runtime.Version())
	how := "COPY"
	if o.load == "api" {
		how = fmt.Sprintf("ImportPersons, %d calls at once", o.streams)
	}
	fmt.Fprintf(stdout, "load: %.1f s (%.0f persons/s, %s); VACUUM (ANALYZE) persons %.1f s; server VmHWM after the load %d MB\n",
		importTime.Seconds(), float64(o.persons)/importTime.Seconds(), how, vacuum.Seconds(), afterImport/1024)
	fmt.Fprintf(stdout, "plan: %d persons, contribution %s, subsidy %s, payable %s (checked); plan.csv %d MB\n\n",
		runs[0].summary.persons, runs[0].summary.contribution, runs[0].summary.subsidy, runs[0].summary.payable, fi.Size()>>20)
	fmt.Fprintln(stdout, "| run | wall | rows/s | server peak (VmHWM) | server RSS after | plan command peak | server CPU | plan command CPU |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|")
	row := func(name string, r planRun) {
		fmt.Fprintf(stdout, "| %s | %.2f s | %.0f | %d MB | %d MB | %d MB | %.2f s | %.2f s |\n", name, r.wall.Seconds(),
			float64(r.summary.persons)/r.wall.Seconds(), r.serverPeak/1024, r.serverRSS/1024, r.clientPeak/1024,
			r.serverCPU.Seconds(), r.clientCPU.Seconds())
	}
	for i, r := range runs {
		row(fmt.Sprintf("--csv #%d", i+1), r)
	}
	row("--csv --diff", diff)
	sorted := append([]planRun(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].wall < sorted[j].wall })
	median := sorted[len(sorted)/2]
	var peak int64
	for _, r := range append(runs, diff) {
		peak = max(peak, r.serverPeak)
	}
	verdict := "MET"
	if median.wall > targetWall || peak >= targetKB {
		verdict = "MISSED"
	}
	fmt.Fprintf(stdout, "\ntarget (≤ %s, server < %d MB): %s (median %.2f s, server peak %d MB)\n",
		targetWall, targetKB/1024, verdict, median.wall.Seconds(), peak/1024)
	return nil
}
