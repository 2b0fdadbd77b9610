package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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
	// while the calls ran, not while ghz set up or wrote its report (not
	// in ghz's report; zero where unknown; cpuwindow.go).
	ServerCPU time.Duration `json:"-"`
	GhzCPU    time.Duration `json:"-"`
}

// callDetail is one call of a ghz report.
type callDetail struct {
	// Timestamp is when the call ended.
	Timestamp time.Time     `json:"timestamp"`
	Latency   time.Duration `json:"latency"`
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
// store's run is left after this one. PreSettle and Settle get a file of
// distinct requests (bindata.go), removed after unless -keep: a run that
// outgrows its file (and so may have sent a request twice, an idempotent
// replay cheaper than a settlement) is run again, twice at most, with new
// request ids and a bigger file; if the last still outgrows it its calls
// count as errors.
func runGhz(ctx context.Context, ghz string, srv *server, work string, c call, o options, d time.Duration, phase string, p *progress, label string, after time.Duration) (report, error) {
	if srv.rates == nil {
		srv.rates = rates{}
	}
	if c.who.n == 0 {
		rep, err := ghzOnce(ctx, ghz, srv, work, c, o, d, phase, 0, p, label, after)
		if err == nil {
			srv.rates.note(c.id, rep.Rps)
		}
		return rep, err
	}
	distinct := srv.rates.requests(c.id, d, o.concurrency)
	for attempt := 1; ; attempt++ {
		rep, err := ghzOnce(ctx, ghz, srv, work, c, o, d, phase, distinct, p, label, after)
		if err != nil {
			return rep, err
		}
		if !exhausted(rep.Count, o.concurrency, distinct) {
			srv.rates.note(c.id, rep.Rps)
			return rep, nil
		}
		if attempt == 3 {
			voidIfExhausted(&rep, o.concurrency, distinct)
			return rep, nil
		}
		p.step(fmt.Sprintf("%s: %d calls for %d distinct requests, some may have repeated: run again with more", label, rep.Count, distinct))
		phase = fmt.Sprintf("%s.%d", strings.Split(phase, ".")[0], attempt+1)
		distinct = requestsFor(1.5*float64(rep.Count)/d.Seconds(), d, o.concurrency)
	}
}

// ghzOnce is one run of runGhz, with distinct requests in its file (0: the
// empty RPC's JSON).
func ghzOnce(ctx context.Context, ghz string, srv *server, work string, c call, o options, d time.Duration, phase string, distinct int, p *progress, label string, after time.Duration) (report, error) {
	addr := srv.addr
	base := filepath.Join(work, fmt.Sprintf("ghz-%s-%s-%s", addr[strings.LastIndex(addr, ":")+1:], c.id, phase))
	out := base + ".json"
	var data []string
	if distinct > 0 {
		bin := base + ".bin"
		if err := writeRequests(bin, c.requestPrefix(runID, phase), c.who, distinct, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))); err != nil {
			return report{}, fmt.Errorf("%s: %w", c.label, err)
		}
		if !o.keep {
			defer os.Remove(bin)
		}
		data = []string{"--binary-file", bin}
	} else {
		js, err := c.requestJSON()
		if err != nil {
			return report{}, err
		}
		data = []string{"-d", js}
	}
	args := append(append([]string{
		"--insecure",
		"--call", c.method,
		// No request is a template: without these ghz still builds a
		// text/template with Sprig's hundred-odd functions for every
		// call, about 60 µs of its CPU per call.
		"--disable-template-functions",
		"--disable-template-data",
	}, data...),
		"-c", strconv.Itoa(o.concurrency),
		"--connections", strconv.Itoa(o.connections),
		"-z", d.String(),
		// Calls still in flight when the duration ends are left out of
		// the figures, not counted as errors.
		"--duration-stop", "ignore",
		"-t", "10s",
		"-O", "json", "-o", out,
		addr,
	)
	cmd := exec.CommandContext(ctx, ghz, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is ours to handle
	if len(o.ghzEnv) > 0 {
		cmd.Env = append(os.Environ(), o.ghzEnv...)
	}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return report{}, fmt.Errorf("start ghz: %w", err)
	}
	stop := p.countdown(label, d, after)
	stopGhzCPU := sampleCPU(cmd.Process.Pid, cpuSampleEvery)
	stopServerCPU := sampleCPU(srv.cmd.Process.Pid, cpuSampleEvery)
	err := cmd.Wait()
	ghzCPU, serverCPU := stopGhzCPU(), stopServerCPU()
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
	// Where the calls' window cannot be read: the whole of ghz's run.
	rep.GhzCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if len(serverCPU) > 1 {
		rep.ServerCPU = serverCPU[len(serverCPU)-1].cpu - serverCPU[0].cpu
	}
	if from, to, ok := callWindow(rep.Details); ok {
		g, gok := cpuBetween(ghzCPU, from, to)
		s, sok := cpuBetween(serverCPU, from, to)
		if gok && sok {
			rep.GhzCPU, rep.ServerCPU = g, s
		}
	}
	return rep, nil
}
