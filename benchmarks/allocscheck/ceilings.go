package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ceiling is one benchmark's most allowed allocations per operation.
type ceiling struct {
	name string
	max  int64
}

// parseCeilings reads "BenchmarkName max" lines; # starts a comment.
func parseCeilings(text string) ([]ceiling, error) {
	var out []ceiling
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || !strings.HasPrefix(f[0], "Benchmark") {
			return nil, fmt.Errorf("line %d: want `BenchmarkName max-allocs`, got %q", i+1, strings.TrimSpace(line))
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("line %d: %q is not a count of allocations", i+1, f[1])
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("line %d: %s appears twice", i+1, f[0])
		}
		seen[f[0]] = true
		out = append(out, ceiling{name: f[0], max: n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ceiling in the file")
	}
	return out, nil
}

// benchPattern is the -bench regexp that runs exactly the named top-level
// benchmarks (every sub-benchmark of a name with a slash).
func benchPattern(cs []ceiling) string {
	var names []string
	seen := map[string]bool{}
	for _, c := range cs {
		top, _, _ := strings.Cut(c.name, "/")
		if !seen[top] {
			seen[top] = true
			names = append(names, regexp.QuoteMeta(top))
		}
	}
	return "^(" + strings.Join(names, "|") + ")$"
}

// benchLine matches a result line of go test -benchmem: the name (with
// its -GOMAXPROCS suffix, when above 1) and the allocs/op figure.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s.*\s(\d+) allocs/op`)

// parseAllocs maps each benchmark in go test's output to its allocs/op
// (the largest, when it ran more than once).
func parseAllocs(out string) map[string]int64 {
	got := map[string]int64{}
	for _, line := range strings.Split(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			continue
		}
		if old, ok := got[m[1]]; !ok || n > old {
			got[m[1]] = n
		}
	}
	return got
}

// check compares the measured allocations with the ceilings: one line per
// ceiling, and whether any failed (above its ceiling, or not run).
func check(cs []ceiling, got map[string]int64) (report string, failed bool) {
	var b strings.Builder
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		n, ok := got[c.name]
		switch {
		case !ok:
			failed = true
			fmt.Fprintf(&b, "FAIL %s: did not run (renamed or removed? update the ceilings file)\n", c.name)
		case n > c.max:
			failed = true
			fmt.Fprintf(&b, "FAIL %s: %d allocs/op, above its ceiling of %d\n", c.name, n, c.max)
		case n*10 < c.max*9:
			fmt.Fprintf(&b, "ok   %s: %d allocs/op, ceiling %d (more than 10 %% below it: lower the ceiling to %d)\n", c.name, n, c.max, n)
		default:
			fmt.Fprintf(&b, "ok   %s: %d allocs/op, ceiling %d\n", c.name, n, c.max)
		}
	}
	return b.String(), failed
}
