// Command allocscheck is `make bench-allocs`: it runs the benchmarks named
// in benchmarks/allocs-ceiling.txt briefly with -benchmem and fails when
// one allocates more per operation than its ceiling there, or did not run.
// Allocations per operation are stable on a noisy machine, where times
// are not, so CI can hold the hot path to them.
//
// Usage (from the repository root):
//
//	go run ./benchmarks/allocscheck [-ceilings benchmarks/allocs-ceiling.txt] [-benchtime 2000x] [-pkg ./benchmarks/]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "allocscheck:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("allocscheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ceilingsFile := fs.String("ceilings", "benchmarks/allocs-ceiling.txt", "file of `benchmark max-allocs/op` lines")
	benchtime := fs.String("benchtime", "2000x", "go test -benchtime")
	pkg := fs.String("pkg", "./benchmarks/", "package holding the benchmarks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*ceilingsFile)
	if err != nil {
		return err
	}
	ceilings, err := parseCeilings(string(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", *ceilingsFile, err)
	}
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", benchPattern(ceilings), "-benchtime", *benchtime, "-benchmem", *pkg)
	fmt.Fprintln(stdout, strings.Join(cmd.Args, " "))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test: %w\n%s", err, out)
	}
	report, failed := check(ceilings, parseAllocs(string(out)))
	fmt.Fprint(stdout, report)
	if failed {
		return fmt.Errorf("allocations above the ceilings of %s", *ceilingsFile)
	}
	return nil
}
