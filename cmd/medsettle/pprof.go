package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves the runtime's profiles (net/http/pprof's /debug/pprof/)
// on addr, which must be a loopback address: a profile shows the
// process's memory and code paths and the endpoint has no authentication.
// It is for profiling the real server under load (benchmarks/README.md,
// "Profiling the server"); the listener lives as long as the process.
// It returns the address it listens on.
func startPprof(addr string, log *slog.Logger) (string, error) {
	if !isLoopback(addr) {
		return "", fmt.Errorf("--pprof-listen %s: profiles are served on a loopback address only (e.g. 127.0.0.1:6060)", addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--pprof-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof endpoint stopped", "addr", lis.Addr().String(), "err", err)
		}
	}()
	log.Info("pprof", "addr", lis.Addr().String(), "path", "/debug/pprof/")
	return lis.Addr().String(), nil
}
