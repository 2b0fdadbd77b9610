package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsServer serves /metrics for Prometheus to scrape.
type metricsServer struct {
	addr string // the address it listens on, the port resolved
	srv  *http.Server
}

// startMetricsServer listens on addr (failing now, not later, when it
// cannot) and serves reg, with the Go runtime's and the process's
// collectors added, on /metrics over plain HTTP. The endpoint has no
// authentication: its labels carry no person, institution or request id,
// but keep it on a loopback or an operations network.
func startMetricsServer(addr string, reg *prometheus.Registry, log *slog.Logger) (*metricsServer, error) {
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("register Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("register process collector: %w", err)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Registry:            reg, // promhttp_metric_handler_errors_total
		Timeout:             10 * time.Second,
		MaxRequestsInFlight: 4,
	}))
	ms := &metricsServer{addr: lis.Addr().String(), srv: &http.Server{
		Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute,
	}}
	go func() {
		if err := ms.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint stopped", "addr", ms.addr, "err", err)
		}
	}()
	log.Info("Prometheus metrics", "addr", ms.addr, "path", "/metrics")
	return ms, nil
}

// stop closes the listener and waits for scrapes in flight.
func (ms *metricsServer) stop(ctx context.Context) error {
	if err := ms.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop metrics endpoint: %w", err)
	}
	return nil
}
