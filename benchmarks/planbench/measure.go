package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
)

// planRun is one timed `medsettle plan` against the server.
type planRun struct {
	wall       time.Duration
	serverPeak int64         // kB: the server's VmHWM over the run (reset before it)
	serverRSS  int64         // kB: the server's VmRSS after the run
	clientPeak int64         // kB: the plan command's peak resident size
	serverCPU  time.Duration // the server's user and system CPU over the run
	clientCPU  time.Duration // the plan command's user and system CPU
	summary    planSummary
}

// planSummary is the figures the plan command printed.
type planSummary struct {
	persons                        int64
	contribution, subsidy, payable engine.Money
}

// runPlan runs `bin plan` with args against the server and measures it.
func runPlan(ctx context.Context, bin string, s *server, args ...string) (planRun, error) {
	var r planRun
	pid := s.cmd.Process.Pid
	if err := resetPeak(pid); err != nil {
		return r, fmt.Errorf("reset the server's VmHWM: %w", err)
	}
	cpuBefore, err := processCPU(pid)
	if err != nil {
		return r, err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"plan", "--region", planRegion, "--scheme", "resident",
		"--year", strconv.Itoa(planYear), "--addr", s.addr}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r.wall = time.Since(start)
	if err != nil {
		return r, fmt.Errorf("medsettle plan %v: %w\n%s%s", args, err, stdout.String(), stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.clientPeak = ru.Maxrss // kB on Linux
	}
	r.clientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	cpuAfter, err := processCPU(pid)
	if err != nil {
		return r, err
	}
	r.serverCPU = cpuAfter - cpuBefore
	if r.serverPeak, err = memoryKB(pid, "VmHWM"); err != nil {
		return r, err
	}
	if r.serverRSS, err = memoryKB(pid, "VmRSS"); err != nil {
		return r, err
	}
	// The summary is on stdout, or on stderr when stdout had a diff.
	r.summary, err = parseSummary(stdout.String() + "\n" + stderr.String())
	return r, err
}

// parseSummary reads the persons and amounts of the plan's summary.
func parseSummary(text string) (planSummary, error) {
	var s planSummary
	found := 0
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		var err error
		switch f[0] {
		case "persons":
			s.persons, err = strconv.ParseInt(f[1], 10, 64)
		case "contribution":
			s.contribution, err = engine.ParseMoney(f[1])
		case "subsidy":
			s.subsidy, err = engine.ParseMoney(f[1])
		case "payable":
			s.payable, err = engine.ParseMoney(f[1])
		default:
			continue
		}
		if err != nil {
			return s, fmt.Errorf("the plan's summary line %q: %w", line, err)
		}
		found++
	}
	if found != 4 {
		return s, fmt.Errorf("the plan's summary lacks persons, contribution, subsidy or payable:\n%s", text)
	}
	return s, nil
}

// check compares the summary with the baseline (the demo's own
// residents) plus the generated residents' expected totals.
func (s planSummary) check(base planSummary, want engine.PlanTotals) error {
	if s.persons != base.persons+want.Persons || !s.contribution.Equal(base.contribution.Add(want.Contribution)) ||
		!s.subsidy.Equal(base.subsidy.Add(want.Subsidy)) || !s.payable.Equal(base.payable.Add(want.Payable)) {
		return fmt.Errorf("the plan says %d persons, contribution %s, subsidy %s, payable %s; expected the demo's %+v plus %d, %s, %s, %s",
			s.persons, s.contribution, s.subsidy, s.payable, base, want.Persons, want.Contribution, want.Subsidy, want.Payable)
	}
	return nil
}

// describeDatabase says which PostgreSQL the run uses, from its settings.
func describeDatabase(ctx context.Context, url string) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var version, fsync, buffers, workMem string
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('shared_buffers'), current_setting('work_mem')`).Scan(&version, &fsync, &buffers, &workMem)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("PostgreSQL %s (fsync %s, shared_buffers %s, work_mem %s)", version, fsync, buffers, workMem), nil
}

// processCPU is the user and system CPU time a process has used, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ")".
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %v %v", pid, err1, err2)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
