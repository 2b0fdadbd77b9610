// Command loadtest is `make loadtest`: the side-by-side load benchmark of
// issue 9. It builds bin/medsettle, and for each store (the embedded one,
// then PostgreSQL in a throwaway cluster with fsync on) starts `medsettle
// serve --demo`, imports 2,000 persons, and runs ghz against
// grpc.health.v1.Health/Check (the empty-RPC limit of the same run),
// PreSettle and Settle for a fixed duration at 64 concurrent calls, the
// calls taking turns in rounds. It
// prints one table: req/s, p50, p99, errors, each call's ratio to its
// store's Health/Check, and whether the call meets issue 9's target.
//
// Usage (from the repository root):
//
//	go run ./benchmarks/loadtest [-stores memstore,pgstore] [-duration 15s] [-warmup 3s] [-rounds 3]
//	    [-concurrency 64] [-connections 8] [-persons 2000] [-database-url URL] [-out FILE.md]
//
// The method and the figures are in benchmarks/README.md.
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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	stores      []string
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	concurrency int
	connections int
	persons     int
	databaseURL string
	out         string
	serveArgs   []string
	strict      bool
	keep        bool
	compare     bool
	profileDir  string
	// serverProcs is the server's GOMAXPROCS (0: the Go runtime's
	// default, the machine's CPUs).
	serverProcs int
	// ghzEnv is extra environment for every ghz run, NAME=VALUE each
	// (none: ghz as installed, which issue 9's figures are taken with).
	ghzEnv []string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && ctx.Err() != nil {
		err = errors.New("interrupted; the servers and the PostgreSQL cluster were stopped")
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errTargetsMissed ends a -strict run whose table has a FAIL.
var errTargetsMissed = errors.New("some targets were missed (-strict)")

// exitCode is 2 for bad flags, 1 for everything else.
func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || strings.HasPrefix(err.Error(), "flags: ") {
		return 2
	}
	return 1
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stores := fs.String("stores", "memstore,pgstore", "stores to measure, in order: memstore (embedded), pgstore (PostgreSQL), memstore+otel (embedded, every OpenTelemetry exporter on)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "measured duration of each call")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured ghz run before each measured one (0: none)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds the measured duration is split into; each round runs every call of the store in turn")
	fs.IntVar(&o.concurrency, "concurrency", 64, "concurrent calls (ghz -c)")
	fs.IntVar(&o.connections, "connections", 8, "gRPC connections the calls share (ghz --connections)")
	fs.IntVar(&o.persons, "persons", 2000, "persons imported and spread over by PreSettle and Settle")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL to use instead of a throwaway cluster (a fresh schema is made and dropped)")
	fs.StringVar(&o.out, "out", "", "also write the table and the method as markdown to this file")
	serveArgs := fs.String("serve-args", "", "extra flags for `medsettle serve`, separated by spaces (e.g. \"--max-in-flight 128\")")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 when a row misses its target")
	fs.BoolVar(&o.compare, "compare", false, "only issue 12's comparison: gRPC Settle and the national gateway's 2301+2304, on memstore and pgstore")
	fs.StringVar(&o.profileDir, "profile", "", "write a CPU profile of the server during each call's first round to DIR/<store>-<call>.pprof, and its mutex waits to DIR/<store>-<call>.mutex.pprof (serve --pprof-listen --pprof-mutex-fraction 20)")
	fs.IntVar(&o.serverProcs, "server-gomaxprocs", 0, "run the server with GOMAXPROCS=N (0: Go's default, the machine's CPUs); the load generators keep theirs")
	ghzEnv := fs.String("ghz-env", "", "extra environment for every ghz run, NAME=VALUE separated by spaces (e.g. \"GOGC=off GOMEMLIMIT=8GiB\", to see how much of ghz's CPU per call is its own garbage collector); issue 9's figures are taken without")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server logs, ghz reports) and print its path")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("flags: loadtest takes no arguments, got %q", fs.Args())
	}
	if o.serverProcs < 0 {
		return o, fmt.Errorf("flags: -server-gomaxprocs is %d; give 0 (Go's default) or a positive count", o.serverProcs)
	}
	for _, s := range strings.Split(*stores, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if s != "memstore" && s != "pgstore" && s != otelStore {
			return o, fmt.Errorf("flags: -stores: unknown store %q (memstore, pgstore, %s)", s, otelStore)
		}
		o.stores = append(o.stores, s)
	}
	o.serveArgs = strings.Fields(*serveArgs)
	o.ghzEnv = strings.Fields(*ghzEnv)
	for _, kv := range o.ghzEnv {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return o, fmt.Errorf("flags: -ghz-env: %q is not NAME=VALUE (e.g. -ghz-env \"GOGC=off GOMEMLIMIT=8GiB\")", kv)
		}
	}
	switch {
	case len(o.stores) == 0:
		return o, errors.New("flags: -stores names no store")
	case o.duration < time.Second:
		return o, fmt.Errorf("flags: -duration must be at least 1s, got %s", o.duration)
	case o.warmup < 0:
		return o, fmt.Errorf("flags: -warmup must not be negative, got %s", o.warmup)
	case o.rounds < 1 || o.duration/time.Duration(o.rounds) < time.Second:
		return o, fmt.Errorf("flags: need -rounds ≥ 1 and rounds of at least 1s, got %d rounds of %s", o.rounds, o.duration)
	case o.concurrency < 1 || o.connections < 1 || o.connections > o.concurrency:
		return o, fmt.Errorf("flags: need 1 ≤ -connections ≤ -concurrency, got %d and %d", o.connections, o.concurrency)
	case o.persons < 5:
		return o, fmt.Errorf("flags: -persons must be at least 5, got %d", o.persons)
	}
	return o, nil
}

// run measures every store and prints the table.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	root, err := benchbuild.RepoRoot("loadtest")
	if err != nil {
		return err
	}
	ghz, ghzVer, err := findGhz()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "medsettle-loadtest-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep || (err != nil && ctx.Err() == nil) {
			fmt.Fprintf(stderr, "server logs and ghz reports kept in %s\n", work)
			return
		}
		_ = os.RemoveAll(work)
	}()

	p := newProgress(stderr)
	if ghzVer != ghzVersion {
		p.step(fmt.Sprintf("warning: %s is ghz %s, the figures in benchmarks/README.md were taken with %s (%s)", ghz, ghzVer, ghzVersion, ghzInstall))
	}
	p.step("building bin/medsettle")
	bin, err := benchbuild.Binary(ctx, root)
	if err != nil {
		return err
	}
	personsCSV, err := writePersonsCSV(work, o.persons)
	if err != nil {
		return err
	}
	m := method{opts: o, ghz: ghz, ghzVersion: ghzVer, started: time.Now(), loadBefore: loadAverage()}
	var rows []row
	for _, name := range o.stores {
		storeRows, info, err := measureStore(ctx, o, name, bin, ghz, work, personsCSV, p)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if info != "" {
			m.stores = append(m.stores, info)
		}
		rows = append(rows, storeRows...)
	}
	m.loadAfter = loadAverage()
	m.elapsed = time.Since(m.started)
	p.done()

	table := renderTable(rows)
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, table)
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, m.render())
	met, missed := targetCounts(rows)
	fmt.Fprintf(stdout, "\ntargets: %d met, %d missed\n", met, missed)
	if o.out != "" {
		doc := "# medsettle load test\n\n" + table + "\n" + m.render()
		if err := os.WriteFile(o.out, []byte(doc), 0o644); err != nil {
			return fmt.Errorf("-out: %w", err)
		}
		fmt.Fprintf(stderr, "table written to %s\n", o.out)
	}
	if o.strict && missed > 0 {
		return errTargetsMissed
	}
	return nil
}

// measureStore starts a server on one store, loads it and measures every
// call of the store; info describes the database (empty for memstore).
func measureStore(ctx context.Context, o options, name, bin, ghz, work, personsCSV string, p *progress) (rows []row, info string, err error) {
	args := append([]string{}, o.serveArgs...)
	if name == "pgstore" {
		url, schema := o.databaseURL, ""
		if url == "" {
			p.step("pgstore: starting a throwaway PostgreSQL cluster (fsync on, synchronous_commit on)")
			c, err := startCluster()
			if err != nil {
				return nil, "", err
			}
			defer c.Stop()
			url = c.URL
		} else {
			schema = "loadtest_" + nonce()
			defer dropSchema(url, schema, p)
			args = append(args, "--database-schema", schema)
		}
		if info, err = describeDatabase(ctx, url); err != nil {
			return nil, "", err
		}
		info = "Database: " + info
		p.step("pgstore: " + info)
		args = append(args, "--database-url", url)
	}
	var env []string
	if name == otelStore {
		sink, err := startOtelSink()
		if err != nil {
			return nil, "", err
		}
		defer func() {
			sink.stop()
			p.step(fmt.Sprintf("%s: the OTLP sink received %s spans", name, thousands(float64(sink.spans.Load()))))
		}()
		env = sink.env()
		args = append(args, "--metrics-listen", "127.0.0.1:0")
		info = "embedded, OTel on: medsettle serve --metrics-listen 127.0.0.1:0 with OTEL_EXPORTER_OTLP_ENDPOINT set, traces (every call sampled) and metrics over OTLP/gRPC to a sink that drops them, and Prometheus /metrics"
	}
	calls := withGateway(name, callsFor(name, o.persons), o.persons, o.compare)
	gatewayAddr := ""
	for _, c := range calls {
		if c.gateway {
			port, err := freePort()
			if err != nil {
				return nil, "", err
			}
			cfg, err := writeNationalConfig(work, o.warmup+o.duration)
			if err != nil {
				return nil, "", err
			}
			gatewayAddr = fmt.Sprintf("127.0.0.1:%d", port)
			args = append(args, "--national-listen", gatewayAddr, "--national-config", cfg)
		}
	}
	var prof *profiler
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return nil, "", fmt.Errorf("-profile: %w", err)
		}
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		prof = &profiler{dir: o.profileDir, addr: fmt.Sprintf("127.0.0.1:%d", port)}
		args = append(args, "--pprof-listen", prof.addr, "--pprof-mutex-fraction", "20")
	}
	if o.serverProcs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(o.serverProcs))
	}
	p.step(name + ": starting medsettle serve --demo")
	srv, err := startServer(ctx, bin, work, name, args, env)
	if err != nil {
		return nil, "", err
	}
	if gatewayAddr != "" {
		srv.his = newHISLoad(gatewayAddr, o.concurrency)
	}
	defer func() {
		if serr := srv.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	p.step(fmt.Sprintf("%s: importing %s persons", name, thousands(float64(o.persons))))
	if err := srv.importPersons(ctx, personsCSV); err != nil {
		return nil, "", err
	}
	slice := o.duration / time.Duration(o.rounds)
	left := time.Duration(len(calls)) * (o.warmup + o.duration)
	for _, c := range calls {
		if o.warmup > 0 {
			left -= o.warmup
			if _, err := runCall(ctx, ghz, srv, work, c, o, o.warmup, "warmup", p, name+" warm-up "+c.label, left, func() {}); err != nil {
				return nil, "", err
			}
		}
	}
	// The calls take turns, round after round, so that a change in the
	// machine's other load falls on every call alike.
	reps := make([][]report, len(calls))
	for round := 1; round <= o.rounds; round++ {
		for i, c := range calls {
			left -= slice
			label := fmt.Sprintf("%s round %d/%d %s", name, round, o.rounds, c.label)
			started, wait := func() {}, func() error { return nil }
			if round == 1 {
				started, wait = prof.during(ctx, slice, name+"-"+c.id)
			}
			rep, err := runCall(ctx, ghz, srv, work, c, o, slice, fmt.Sprintf("r%d", round), p, label, left, started)
			if werr := wait(); err == nil && werr != nil {
				err = werr
			}
			if err != nil {
				return nil, "", err
			}
			reps[i] = append(reps[i], rep)
		}
		if err := srv.alive(); err != nil {
			return nil, "", err
		}
	}
	var empty, settle float64
	for i, c := range calls {
		r := newRow(name, c, aggregate(reps[i]))
		switch {
		case c.empty:
			empty = r.rps
		case c.id == "settle":
			settle = r.rps
		}
		r.ratio = ratio(r.rps, empty)
		if c.gateway {
			r.ratio = ratio(r.rps, settle)
		}
		r.verdict = c.target.judge(r)
		p.step(fmt.Sprintf("%s: %s %s req/s, p50 %s, p99 %s, %d errors", name, c.label, thousands(r.rps), ms(r.p50), ms(r.p99), r.errors))
		rows = append(rows, r)
	}
	return rows, info, nil
}

// runCall runs one row's load for d: ghz, or the gateway's client.
// started is called when the calls begin (when the server gets busy after
// ghz is launched, ghz having parsed its request file; after the
// gateway's admissions are open).
func runCall(ctx context.Context, ghz string, srv *server, work string, c call, o options, d time.Duration, phase string, p *progress, label string, after time.Duration, started func()) (report, error) {
	if c.gateway {
		return runGateway(ctx, srv, c, o, d, phase, p, label, after, started)
	}
	stop := whenBusy(ctx, func() (time.Duration, bool) { return processCPU(srv.cmd.Process.Pid) }, busyEvery, started)
	defer stop()
	return runGhz(ctx, ghz, srv, work, c, o, d, phase, p, label, after)
}

// ratio is rps over the empty RPC's rate (0 when there is none).
func ratio(rps, empty float64) float64 {
	if empty <= 0 {
		return 0
	}
	return rps / empty
}
