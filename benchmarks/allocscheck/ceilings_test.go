package main

import (
	"os"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/medsettle/medsettle/benchmarks
cpu: AMD EPYC
BenchmarkEngineSettle20Lines-2   	    2000	    141418 ns/op	   25187 B/op	     743 allocs/op
BenchmarkGRPCSettle20Lines/memstore-2   	    2000	    283000 ns/op	   95000 B/op	    1790 allocs/op
BenchmarkEngineSettle20Lines   	    2000	     53709 ns/op	   25187 B/op	     745 allocs/op
PASS
ok  	github.com/medsettle/medsettle/benchmarks	0.620s
`

func TestParseAllocsTakesTheLargestOfEachBenchmark(t *testing.T) {
	got := parseAllocs(sampleOutput)
	if len(got) != 2 || got["BenchmarkEngineSettle20Lines"] != 745 || got["BenchmarkGRPCSettle20Lines/memstore"] != 1790 {
		t.Fatalf("parseAllocs = %v", got)
	}
}

func TestParseCeilings(t *testing.T) {
	cs, err := parseCeilings("# comment\n\nBenchmarkEngineSettle20Lines   743  # engine\nBenchmarkGRPCSettle20Lines/memstore 1800\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0] != (ceiling{"BenchmarkEngineSettle20Lines", 743}) || cs[1] != (ceiling{"BenchmarkGRPCSettle20Lines/memstore", 1800}) {
		t.Fatalf("parseCeilings = %v", cs)
	}
	if p := benchPattern(cs); p != "^(BenchmarkEngineSettle20Lines|BenchmarkGRPCSettle20Lines)$" {
		t.Fatalf("benchPattern = %q", p)
	}
	for _, bad := range []string{"", "# only a comment\n", "EngineSettle 10\n", "BenchmarkX ten\n", "BenchmarkX -1\n", "BenchmarkX 1\nBenchmarkX 2\n", "BenchmarkX 1 2\n"} {
		if _, err := parseCeilings(bad); err == nil {
			t.Errorf("parseCeilings(%q) accepted it", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	got := parseAllocs(sampleOutput)
	for _, tc := range []struct {
		ceilings []ceiling
		failed   bool
		want     string
	}{
		{[]ceiling{{"BenchmarkEngineSettle20Lines", 745}}, false, "ok   BenchmarkEngineSettle20Lines: 745 allocs/op, ceiling 745\n"},
		{[]ceiling{{"BenchmarkEngineSettle20Lines", 744}}, true, "FAIL BenchmarkEngineSettle20Lines: 745 allocs/op, above its ceiling of 744\n"},
		{[]ceiling{{"BenchmarkEngineSettle20Lines", 900}}, false, "ok   BenchmarkEngineSettle20Lines: 745 allocs/op, ceiling 900 (more than 10 % below it: lower the ceiling to 745)\n"},
		{[]ceiling{{"BenchmarkGone", 10}}, true, "FAIL BenchmarkGone: did not run (renamed or removed? update the ceilings file)\n"},
	} {
		report, failed := check(tc.ceilings, got)
		if failed != tc.failed || report != tc.want {
			t.Errorf("check(%v) = %q, %v; want %q, %v", tc.ceilings, report, failed, tc.want, tc.failed)
		}
	}
}

func TestCeilingsFileParses(t *testing.T) {
	raw, err := os.ReadFile("../allocs-ceiling.txt")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := parseCeilings(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(benchPattern(cs), "BenchmarkEngineSettle20Lines") {
		t.Fatalf("the committed ceilings do not name BenchmarkEngineSettle20Lines: %v", cs)
	}
}
