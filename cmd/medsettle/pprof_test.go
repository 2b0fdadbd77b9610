package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:6060"} {
		if _, err := startPprof(addr, log); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("startPprof(%q) = %v, want a refusal naming loopback", addr, err)
		}
	}
	addr, err := startPprof("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("GET /debug/pprof/cmdline: HTTP %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestPprofMutexFractionFlag: --pprof-mutex-fraction takes a sampling
// rate of at least 1 with --pprof-listen, and is refused without it or
// below 0, naming what it needs.
func TestPprofMutexFractionFlag(t *testing.T) {
	f, err := parseServeFlags([]string{"--pprof-listen", "127.0.0.1:0", "--pprof-mutex-fraction", "20"}, io.Discard)
	if err != nil || f.pprofMutexFraction != 20 {
		t.Fatalf("with --pprof-listen: %d, %v", f.pprofMutexFraction, err)
	}
	for _, args := range [][]string{{"--pprof-mutex-fraction", "20"}, {"--pprof-listen", "127.0.0.1:0", "--pprof-mutex-fraction", "-1"}} {
		if _, err := parseServeFlags(args, io.Discard); err == nil || !strings.Contains(err.Error(), "--pprof-mutex-fraction needs --pprof-listen") {
			t.Errorf("%v: %v, want a refusal naming --pprof-listen", args, err)
		}
	}
}
