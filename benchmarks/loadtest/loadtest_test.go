package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// ghzSample is a ghz v0.121.0 JSON report, its details cut to one.
const ghzSample = `{"date":"2026-11-27T08:49:12Z","options":{"call":"medsettle.v1.SettlementService.Settle","insecure":true,"concurrency":64,"connections":8,"duration":3000000000},
"count":30000,"total":3000000000,"average":6000000,"fastest":300000,"slowest":90000000,"rps":10000.4,
"errorDistribution":{"rpc error: code = Unavailable desc = settlement service busy":12},
"statusCodeDistribution":{"OK":29988,"Unavailable":12},
"latencyDistribution":[{"percentage":10,"latency":1000000},{"percentage":50,"latency":5400000},{"percentage":99,"latency":21000000}],
"histogram":[{"mark":0.0003,"count":1,"frequency":0.0001}],
"details":[{"timestamp":"2026-11-27T08:49:12Z","latency":5400000,"error":"","status":"OK"}]}`

func TestParseReport(t *testing.T) {
	rep, err := parseReport([]byte(ghzSample))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count != 30000 || rep.Rps != 10000.4 || rep.Total != 3*time.Second || rep.StatusCodeDist["Unavailable"] != 12 ||
		len(rep.Details) != 1 || rep.Details[0].Latency != 5400*time.Microsecond || rep.Details[0].Error != "" {
		t.Fatalf("parseReport = %+v", rep)
	}
	if _, err := parseReport([]byte(`{"count":0}`)); err == nil || err.Error() != "ghz made no call" {
		t.Fatalf("a report without calls: %v", err)
	}
	if _, err := parseReport([]byte(`not json`)); err == nil {
		t.Fatal("a report that is not JSON was accepted")
	}
}

func TestAggregate(t *testing.T) {
	round := func(total time.Duration, lat []time.Duration, failed int) report {
		r := report{Count: uint64(len(lat) + failed), Total: total, StatusCodeDist: map[string]int{"OK": len(lat)}, ErrorDist: map[string]int{}}
		for _, l := range lat {
			r.Details = append(r.Details, callDetail{Latency: l})
		}
		if failed > 0 {
			r.StatusCodeDist["Unavailable"] = failed
			r.ErrorDist["busy"] = failed
			for i := 0; i < failed; i++ {
				r.Details = append(r.Details, callDetail{Latency: time.Hour, Error: "busy"})
			}
		}
		return r
	}
	var a, b []time.Duration
	for i := 1; i <= 100; i++ {
		a = append(a, time.Duration(i)*time.Millisecond)     // 1..100 ms
		b = append(b, time.Duration(100+i)*time.Millisecond) // 101..200 ms
	}
	f := aggregate([]report{round(2*time.Second, a, 0), round(2*time.Second, b, 2)})
	// 202 calls in 4 s; the percentiles of the 200 OK ones (ranks 100
	// and 198), the failed calls' hour left out.
	if f.count != 202 || f.rps != 50.5 || f.p50 != 100*time.Millisecond || f.p99 != 198*time.Millisecond ||
		f.errors != 2 || f.errDist["busy"] != 2 {
		t.Fatalf("aggregate = %+v", f)
	}
	if got := aggregate(nil); got.rps != 0 || got.p99 != 0 {
		t.Fatalf("aggregate(nil) = %+v", got)
	}
	if p := percentile([]time.Duration{7}, 99); p != 7 {
		t.Fatalf("percentile of one = %v", p)
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    target
		r    row
		want verdict
	}{
		{"no target", target{}, row{rps: 100}, noTarget},
		{"no target, errors", target{}, row{rps: 100, errors: 1}, fail},
		{"ratio met", targets["memstore/Settle"], row{ratio: 0.5}, pass},
		{"ratio missed", targets["memstore/Settle"], row{ratio: 0.49}, fail},
		{"rate and p99 met", targets["pgstore/Settle"], row{rps: 5000, p99: 50 * time.Millisecond}, pass},
		{"p99 missed", targets["pgstore/Settle"], row{rps: 9000, p99: 51 * time.Millisecond}, fail},
		{"rate missed", targets["pgstore/Settle"], row{rps: 4999, p99: time.Millisecond}, fail},
		{"busy ward met", targets["pgstore/SettleBusy"], row{rps: 1500, p99: time.Second}, pass},
		{"met but errors", targets["pgstore/SettleBusy"], row{rps: 1500, errors: 3}, fail},
	} {
		if got := tc.t.judge(tc.r); got != tc.want {
			t.Errorf("%s: judge = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCallsFor(t *testing.T) {
	mem, pg := callsFor("memstore", 2000), callsFor("pgstore", 2000)
	if len(mem) != 3 || len(pg) != 4 || !mem[0].empty || !pg[0].empty || pg[3].label != "Settle (5 persons, busy ward)" {
		t.Fatalf("callsFor: %d memstore rows, %d pgstore rows", len(mem), len(pg))
	}
	if mem[2].label != "Settle (2,000 persons)" || mem[2].target != targets["memstore/Settle"] || pg[1].target != (target{}) {
		t.Fatalf("rows: %+v", mem[2])
	}
	// No two rows or phases share request ids: the ids of one run's
	// Settle rows and of their warm-ups all differ.
	seen := map[string]string{}
	for _, c := range pg {
		if c.empty {
			raw, err := c.requestJSON()
			if err != nil || raw != "{}" {
				t.Fatalf("Health/Check request %s, %v", raw, err)
			}
			continue
		}
		for _, phase := range []string{"warmup", "r1", "r2"} {
			id := c.requestPrefix("abcd1234", phase)
			if !strings.HasPrefix(id, "lt-abcd1234-") || seen[id] != "" {
				t.Fatalf("request ids %q (%s) repeat %s or lack the run", id, c.label, seen[id])
			}
			seen[id] = c.label
		}
	}
	if pg[1].who != (people{"LT", 2000}) || pg[2].who != (people{"LT", 2000}) || pg[3].who != (people{"B", 5}) {
		t.Fatalf("persons: %+v, %+v, %+v", pg[1].who, pg[2].who, pg[3].who)
	}
}

func TestRenderTable(t *testing.T) {
	rows := []row{
		{store: "memstore", label: "Health/Check", rps: 50712.4, p50: 1200 * time.Microsecond, p99: 4 * time.Millisecond, empty: true,
			serverCPU: 17400 * time.Nanosecond, ghzCPU: 21 * time.Microsecond},
		{store: "memstore", label: "Settle (2,000 persons)", rps: 25400, p50: 2 * time.Millisecond, p99: 21 * time.Millisecond,
			serverCPU: 61600 * time.Nanosecond, ghzCPU: 25 * time.Microsecond, ratio: 0.5009, target: targets["memstore/Settle"], verdict: pass},
		{store: "pgstore", label: "Settle (5 persons, busy ward)", rps: 1234.5, p50: 48 * time.Millisecond, p99: 133 * time.Millisecond,
			errors: 2, errDist: map[string]int{"rpc error: code = Unavailable desc = busy": 2}, ratio: 0.031, target: targets["pgstore/SettleBusy"], verdict: fail},
	}
	want := `| store      | call                          |  req/s |     p50 |     p99 | errors | server CPU/call | ghz CPU/call | ratio         | target         | result |
|------------|-------------------------------|-------:|--------:|--------:|-------:|----------------:|-------------:|---------------|----------------|--------|
| embedded   | Health/Check                  | 50,712 | 1.20 ms | 4.00 ms |      0 |           17 µs |        21 µs | 1 (empty RPC) | —              | —      |
| embedded   | Settle (2,000 persons)        | 25,400 | 2.00 ms | 21.0 ms |      0 |           62 µs |        25 µs | 0.50          | ≥ 0.5 of empty | PASS   |
| PostgreSQL | Settle (5 persons, busy ward) |  1,235 | 48.0 ms |  133 ms |      2 |               — |            — | 0.03          | ≥ 1,500/s      | FAIL   |

Errors:
- PostgreSQL Settle (5 persons, busy ward): 2 × rpc error: code = Unavailable desc = busy
`
	if got := renderTable(rows); got != want {
		t.Fatalf("renderTable:\n%s\nwant:\n%s", got, want)
	}
	if met, missed := targetCounts(rows); met != 1 || missed != 1 {
		t.Fatalf("targetCounts = %d, %d", met, missed)
	}
	if s := targets["pgstore/Settle"].String(); s != "≥ 5,000/s, p99 ≤ 50 ms" {
		t.Fatalf("target = %q", s)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-stores", "pgstore, memstore", "-duration", "20s", "-serve-args", "--max-in-flight 128"}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.stores, ",") != "pgstore,memstore" || o.duration != 20*time.Second || o.warmup != 3*time.Second ||
		o.concurrency != 64 || o.connections != 8 || o.persons != 2000 || strings.Join(o.serveArgs, "|") != "--max-in-flight|128" {
		t.Fatalf("parseFlags = %+v", o)
	}
	if o.serverProcs != 0 {
		t.Fatalf("the server's GOMAXPROCS is %d by default, want 0 (Go's own)", o.serverProcs)
	}
	if o, err := parseFlags([]string{"-server-gomaxprocs", "4"}, &strings.Builder{}); err != nil || o.serverProcs != 4 {
		t.Fatalf("-server-gomaxprocs 4: %+v, %v", o, err)
	}
	if len(o.ghzEnv) != 0 {
		t.Fatalf("ghz gets %q by default, want its environment as it is", o.ghzEnv)
	}
	o, err = parseFlags([]string{"-ghz-env", " GOGC=off  GOMEMLIMIT=8GiB "}, &strings.Builder{})
	if err != nil || strings.Join(o.ghzEnv, "|") != "GOGC=off|GOMEMLIMIT=8GiB" {
		t.Fatalf("-ghz-env: %q, %v", o.ghzEnv, err)
	}
	if got := (method{opts: o}).render(); !strings.Contains(got, "with GOGC=off GOMEMLIMIT=8GiB in its environment (not issue 9's method)") {
		t.Fatalf("the method does not say what ghz's environment was:\n%s", got)
	}
	for _, bad := range [][]string{{"-stores", "sqlite"}, {"-stores", ","}, {"-duration", "10ms"}, {"-connections", "65"}, {"-persons", "4"}, {"extra"}, {"-server-gomaxprocs", "-1"},
		{"-ghz-env", "GOGC"}, {"-ghz-env", "=off"}, {"-ghz-env", "GOGC=off GOMEMLIMIT"}} {
		if _, err := parseFlags(bad, &strings.Builder{}); err == nil || exitCode(err) != 2 {
			t.Errorf("parseFlags(%q) = %v", bad, err)
		}
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999.4: "999", 999.5: "1,000", 12345.6: "12,346", 1234567: "1,234,567"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestProcessCPU reads this process's own CPU time, which grows while it
// computes (by 50 ms within 10 s, however busy the machine).
func TestProcessCPU(t *testing.T) {
	before, ok := processCPU(os.Getpid())
	if !ok {
		t.Skip("no /proc on this system")
	}
	x := 0
	for start := time.Now(); time.Since(start) < 10*time.Second; {
		for range 1_000_000 {
			x++
		}
		if now, _ := processCPU(os.Getpid()); now-before >= 50*time.Millisecond {
			return
		}
	}
	after, _ := processCPU(os.Getpid())
	t.Fatalf("CPU time %v → %v after 10 s of computing (%d)", before, after, x)
}

// TestWithGateway: the gateway row is added on memstore and pgstore;
// -compare keeps Settle (without its ratio to the empty RPC, which does
// not run) and the gateway, whose target is 0.7 of Settle on memstore
// and a floor of 0.25 on pgstore.
func TestWithGateway(t *testing.T) {
	mem := withGateway("memstore", callsFor("memstore", 2000), 2000, false)
	if len(mem) != 4 || !mem[3].gateway || mem[3].target.String() != "≥ 0.7 of Settle" {
		t.Fatalf("memstore rows: %+v", mem)
	}
	cmp := withGateway("pgstore", callsFor("pgstore", 2000), 2000, true)
	if len(cmp) != 2 || cmp[0].id != "settle" || !cmp[1].gateway || cmp[0].target != targets["pgstore/Settle"] {
		t.Fatalf("pgstore -compare rows: %+v", cmp)
	}
	if got := cmp[1].target.String(); got != "≥ 0.25 of Settle (floor)" {
		t.Fatalf("pgstore gateway target %q", got)
	}
	if cmp[1].target.judge(row{ratio: 0.24}) != fail || cmp[1].target.judge(row{ratio: 0.34}) != pass {
		t.Fatalf("pgstore gateway floor judged wrongly")
	}
	if m := withGateway("memstore", callsFor("memstore", 2000), 2000, true); m[0].target != (target{}) {
		t.Fatalf("memstore -compare Settle keeps a ratio target: %+v", m[0].target)
	}
	if o := withGateway(otelStore, callsFor(otelStore, 2000), 2000, false); len(o) != 2 {
		t.Fatalf("OTel rows: %+v", o)
	}
}
