package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// row is one line of the table: a call measured on a store.
type row struct {
	store   string
	label   string
	rps     float64
	p50     time.Duration
	p99     time.Duration
	count   uint64
	errors  int
	errDist map[string]int
	// serverCPU and ghzCPU are the CPU time per call of the server and
	// of ghz (zero where unknown): the cost of a call, less sensitive to
	// the machine's other load than the rate.
	serverCPU time.Duration
	ghzCPU    time.Duration
	ratio     float64
	empty     bool
	target    target
	verdict   verdict
}

// newRow is a call's row from its figures.
func newRow(store string, c call, f figures) row {
	return row{store: store, label: c.label, rps: f.rps, p50: f.p50, p99: f.p99,
		count: f.count, errors: f.errors, errDist: f.errDist, serverCPU: f.serverCPU, ghzCPU: f.ghzCPU, empty: c.empty, target: c.target}
}

// storeNames are the stores' names in the table.
var storeNames = map[string]string{"memstore": "embedded", "pgstore": "PostgreSQL", otelStore: "embedded, OTel on"}

// renderTable is the markdown table of the rows, with the errors of any
// row that had some listed below it.
func renderTable(rows []row) string {
	header := []string{"store", "call", "req/s", "p50", "p99", "errors", "server CPU/call", "ghz CPU/call", "ratio", "target", "result"}
	cells := [][]string{header}
	for _, r := range rows {
		rat := fmt.Sprintf("%.2f", r.ratio)
		switch {
		case r.target.of != "":
			rat += " of " + r.target.of
		case r.ratio == 0:
			rat = "—"
		}
		if r.empty {
			rat = "1 (empty RPC)"
		}
		result := map[verdict]string{noTarget: "—", pass: "PASS", fail: "FAIL"}[r.verdict]
		target := r.target.String()
		if target == "" {
			target = "—"
		}
		cells = append(cells, []string{storeNames[r.store], r.label, thousands(r.rps), ms(r.p50), ms(r.p99),
			thousands(float64(r.errors)), micros(r.serverCPU), micros(r.ghzCPU), rat, target, result})
	}
	width := make([]int, len(header))
	for _, line := range cells {
		for i, c := range line {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for n, line := range cells {
		b.WriteString("|")
		for i, c := range line {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i >= 2 && i <= 7 {
				c = pad + c // figures right-aligned
			} else {
				c += pad
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
		if n == 0 {
			b.WriteString("|")
			for i := range line {
				dashes := strings.Repeat("-", width[i]+2)
				if i >= 2 && i <= 7 {
					dashes = strings.Repeat("-", width[i]+1) + ":"
				}
				b.WriteString(dashes + "|")
			}
			b.WriteString("\n")
		}
	}
	var errs []string
	for _, r := range rows {
		for msg, n := range r.errDist {
			errs = append(errs, fmt.Sprintf("- %s %s: %s × %s\n", storeNames[r.store], r.label, thousands(float64(n)), msg))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		b.WriteString("\nErrors:\n" + strings.Join(errs, ""))
	}
	return b.String()
}

// method says how the table was made, for the reader of the figures.
type method struct {
	opts       options
	ghz        string
	ghzVersion string
	stores     []string
	started    time.Time
	elapsed    time.Duration
	loadBefore string
	loadAfter  string
}

func (m method) render() string {
	o := m.opts
	var b strings.Builder
	env := ""
	if len(o.ghzEnv) > 0 {
		env = " with " + strings.Join(o.ghzEnv, " ") + " in its environment (not issue 9's method)"
	}
	fmt.Fprintf(&b, "- Machine: %s, %d CPUs, %s, ghz %s (%s)%s and the server sharing the machine.\n",
		m.started.UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.Version(), m.ghzVersion, m.ghz, env)
	fmt.Fprintf(&b, "- Each call: %s warm-up (not counted), then %s measured in %d rounds of %s, the calls of a store taking turns; %d concurrent calls over %d connections; calls in flight at the end of a round left out (--duration-stop ignore).\n",
		o.warmup, o.duration, o.rounds, o.duration/time.Duration(o.rounds), o.concurrency, o.connections)
	procs := ""
	if o.serverProcs > 0 {
		procs = fmt.Sprintf(" with GOMAXPROCS=%d", o.serverProcs)
	}
	fmt.Fprintf(&b, "- Server: medsettle serve --demo%s%s; %s persons imported (employees of 350500); PreSettle and Settle: the 6-line inpatient claim of benchmarks/ghz/settle-demo.json at QZ-H3, each call a new request id, ghz sending ready messages from a file (--binary-file) rather than building each from a JSON template, its template functions and data off; CPU per call is over the time the calls ran, not ghz's setup or report.\n",
		strings.TrimRight(" "+strings.Join(o.serveArgs, " "), " "), procs, thousands(float64(o.persons)))
	for _, s := range o.stores {
		if s == "memstore" || s == "pgstore" {
			fmt.Fprintf(&b, "- Gateway (issue 12): the same claim through `serve --national-listen` (x-tif, a config of QZ-H3 in the run's directory), %d workers with keep-alive connections, each claim an admission opened beforehand (2401, not timed) then 2301 (the 6 lines, prices and counts as JSON numbers) and 2304, each request signed as a HIS signs it (SHA-256, a fresh nonce); the claim's latency is its 2301 + 2304; ratio to the Settle row of the same store and run, at least 0.7 on the embedded store (issue 12) and 0.25 on PostgreSQL (a floor against regressions: docs/DECISIONS.md, \"Gateway speed: the embedded store's target, PostgreSQL's floor\"); client CPU/call in the ghz column.\n", o.concurrency)
			break
		}
	}
	for _, s := range m.stores {
		fmt.Fprintf(&b, "- %s.\n", s)
	}
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min) before: %s; after: %s; the run took %s.\n", m.loadBefore, m.loadAfter, m.elapsed.Round(time.Second))
	return b.String()
}

// loadAverage is the first three fields of /proc/loadavg ("?" elsewhere).
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ms formats a latency in milliseconds with two significant decimals.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

// thousands formats a non-negative figure rounded to a whole number with
// thousands separators: 12345.6 → "12,346".
func thousands(v float64) string {
	s := fmt.Sprintf("%d", int64(math.Round(v)))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// micros is a CPU time per call in microseconds ("—" when unknown).
func micros(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
