package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ghzVersion is the ghz release the figures were taken with.
const ghzVersion = "v0.121.0"

// ghzInstall says how to get it.
const ghzInstall = "go install github.com/bojand/ghz/cmd/ghz@" + ghzVersion

// findGhz finds ghz on the PATH or in $(go env GOPATH)/bin, checks that
// it knows --duration-stop, and returns its path and its module version
// ("unknown" when the binary does not say).
func findGhz() (path, version string, err error) {
	path, err = lookGhz()
	if err != nil {
		return "", "", err
	}
	help, _ := exec.Command(path, "--help").CombinedOutput()
	if !strings.Contains(string(help), "--duration-stop") {
		return "", "", fmt.Errorf("%s is too old (no --duration-stop); install ghz %s with: %s", path, ghzVersion, ghzInstall)
	}
	return path, ghzModuleVersion(path), nil
}

// ghzModuleVersion reads the module version go install built path from.
func ghzModuleVersion(path string) string {
	out, err := exec.Command("go", "version", "-m", path).Output()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/bojand/ghz" {
			return f[2]
		}
	}
	return "unknown"
}

// lookGhz finds the ghz binary.
func lookGhz() (string, error) {
	path, err := exec.LookPath("ghz")
	if err != nil {
		out, gerr := exec.Command("go", "env", "GOPATH").Output()
		if gerr == nil {
			for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
				candidate := filepath.Join(dir, "bin", "ghz")
				if _, serr := os.Stat(candidate); serr == nil {
					path, err = candidate, nil
					break
				}
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("ghz not found on the PATH nor in $(go env GOPATH)/bin; install it with: %s", ghzInstall)
	}
	return path, nil
}

// report is the part of ghz's JSON report (-O json) the table needs.
type report struct {
	Count          uint64         `json:"count"`
	Total          time.Duration  `json:"total"`
	Rps            float64        `json:"rps"`
	ErrorDist      map[string]int `json:"errorDistribution"`
	StatusCodeDist map[string]int `json:"statusCodeDistribution"`
	// Details has every call, up to ghz's limit of a million.
	Details []callDetail `json:"details"`
	// ServerCPU and GhzCPU are the CPU time the server and ghz used
	// during the run (not in ghz's report; zero where unknown).
	ServerCPU time.Duration `json:"-"`
	GhzCPU    time.Duration `json:"-"`
}

// callDetail is one call of a ghz report.
type callDetail struct {
	Latency time.Duration `json:"latency"`
	// Error is "" for a call that ended OK.
	Error string `json:"error"`
}

// parseReport reads ghz's JSON report.
func parseReport(raw []byte) (report, error) {
	var r report
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("ghz JSON report: %w", err)
	}
	if r.Count == 0 {
		return r, errors.New("ghz made no call")
	}
	return r, nil
}

// runGhz runs ghz for d against addr with c's request for phase (request
// ids differ between phases) and returns its report; the report file
// stays in work. The progress shows label, and after: how much of the
// store's run is left after this one.
func runGhz(ctx context.Context, ghz string, srv *server, work string, c call, o options, d time.Duration, phase string, p *progress, label string, after time.Duration) (report, error) {
	addr := srv.addr
	data, err := c.requestJSON(runID, phase)
	if err != nil {
		return report{}, err
	}
	out := filepath.Join(work, fmt.Sprintf("ghz-%s-%s-%s.json", addr[strings.LastIndex(addr, ":")+1:], c.id, phase))
	args := []string{
		"--insecure",
		"--call", c.method,
		"-d", data,
		"-c", strconv.Itoa(o.concurrency),
		"--connections", strconv.Itoa(o.connections),
		"-z", d.String(),
		// Calls still in flight when the duration ends are left out of
		// the figures, not counted as errors.
		"--duration-stop", "ignore",
		"-t", "10s",
		"-O", "json", "-o", out,
		addr,
	}
	cmd := exec.CommandContext(ctx, ghz, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is ours to handle
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return report{}, fmt.Errorf("start ghz: %w", err)
	}
	stop := p.countdown(label, d, after)
	serverBefore, cpuKnown := processCPU(srv.cmd.Process.Pid)
	err = cmd.Wait()
	serverAfter, cpuAfter := processCPU(srv.cmd.Process.Pid)
	stop()
	if ctx.Err() != nil {
		return report{}, ctx.Err()
	}
	if err != nil {
		return report{}, fmt.Errorf("ghz %s: %w: %s", c.label, err, strings.TrimSpace(stderr.String()))
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return report{}, fmt.Errorf("ghz %s: %w", c.label, err)
	}
	rep, err := parseReport(raw)
	if err != nil {
		return report{}, fmt.Errorf("%s: %w", c.label, err)
	}
	if cpuKnown && cpuAfter {
		// The server's includes ghz's start and end (connecting, a few
		// milliseconds), a little more than the calls themselves.
		rep.ServerCPU = serverAfter - serverBefore
		rep.GhzCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return rep, nil
}
