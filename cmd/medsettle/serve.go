package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
)

// drainTimeout is how long SIGTERM waits for calls in flight before it
// cuts them off.
const drainTimeout = 30 * time.Second

type serveFlags struct {
	listen, tokens, databaseURL  string
	databaseSchema               string
	tlsCert, tlsKey, tlsClientCA string
	policies                     []string
	demo, insecure               bool
	maxClockSkew                 time.Duration
	storeTimeouts                api.StoreTimeouts
	limits                       limitFlags
	metricsListen                string
	pprofListen                  string
	pprofMutexFraction           int
	pgMaxBatch                   int
	gcHeapFloorMiB               int
	// nationalListen and nationalConfig serve the national-interface
	// gateway (api/national) beside gRPC; both or neither.
	nationalListen, nationalConfig string
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:50051", "address to serve gRPC on")
	fs.StringVar(&f.tokens, "tokens", "", "tokens file: {\"tokens\": [{\"token\": …, \"role\": \"admin|clearing|institution:<id>\"}]}; none: open mode, loopback only")
	fs.StringVar(&f.databaseURL, "database-url", os.Getenv("MEDSETTLE_DATABASE_URL"), "PostgreSQL URL (also MEDSETTLE_DATABASE_URL); empty: the embedded in-memory store")
	fs.StringVar(&f.databaseSchema, "database-schema", pgstore.DefaultSchema, "PostgreSQL schema of medsettle's tables")
	fs.Func("policy", "policy file to load at start (protojson of medsettle.v1.Policy); repeatable", func(s string) error {
		f.policies = append(f.policies, s)
		return nil
	})
	fs.BoolVar(&f.demo, "demo", false, "load the example policies, institutions and persons")
	fs.BoolVar(&f.insecure, "insecure", false, "allow serving without credentials on a non-loopback address")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca", "", "require client certificates signed by this CA (PEM)")
	fs.DurationVar(&f.maxClockSkew, "max-clock-skew", api.DefaultMaxClockSkew,
		"how far ahead of the server's date (China Standard Time) a settle date may be; later dates are INVALID_ARGUMENT")
	fs.DurationVar(&f.storeTimeouts.Unary, "store-timeout", api.DefaultStoreTimeout,
		"how long one store operation of a unary call (a settlement call: all of its store operations together) may take before the call is answered UNAVAILABLE (retry with the same request id)")
	fs.DurationVar(&f.storeTimeouts.Long, "long-store-timeout", api.DefaultLongStoreTimeout,
		"the same for a clearing run, a reconciliation or a bulk import")
	fs.IntVar(&f.pgMaxBatch, "pg-max-batch", pgstore.DefaultMaxBatch,
		"PostgreSQL: most settlements (and audit events) committed together in one transaction (group commit); 1: each its own")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "address to serve Prometheus /metrics on over plain HTTP (docs/METRICS.md); empty: off")
	fs.StringVar(&f.pprofListen, "pprof-listen", "", "loopback address to serve the Go runtime's profiles on (/debug/pprof/); empty: off")
	fs.IntVar(&f.pprofMutexFraction, "pprof-mutex-fraction", 0, "sample one in N mutex waits for /debug/pprof/mutex (runtime.SetMutexProfileFraction; costs some throughput); needs --pprof-listen; 0: off")
	fs.StringVar(&f.nationalListen, "national-listen", "", "address to serve the national-interface gateway on (HTTP; HTTPS with --tls-cert); needs --national-config; empty: off")
	fs.StringVar(&f.nationalConfig, "national-config", "", "national gateway config: {\"scheme\": \"x-tif\"|\"csb\", \"area\": …, \"institutions\": [{\"fixmedins_code\", \"institution_id\", \"key\", \"secret\"}]} (examples/national-config.json for --demo)")
	fs.IntVar(&f.gcHeapFloorMiB, "gc-heap-floor-mib", defaultHeapFloorMiB,
		"let the Go heap grow to at least this many MiB before a garbage collection (GOGC raised after each collection while the live heap is smaller); 0: the runtime's default; off when GOGC is set")
	addLimitFlags(fs, &f.limits)
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.storeTimeouts.Unary <= 0 || f.storeTimeouts.Long <= 0 {
		return f, fmt.Errorf("--store-timeout and --long-store-timeout must be positive durations such as 5s and 10m, got %s and %s",
			f.storeTimeouts.Unary, f.storeTimeouts.Long)
	}
	if f.pprofMutexFraction < 0 || (f.pprofMutexFraction > 0 && f.pprofListen == "") {
		return f, fmt.Errorf("--pprof-mutex-fraction needs --pprof-listen and a sampling rate of at least 1 (one in N waits), got %d", f.pprofMutexFraction)
	}
	if f.pgMaxBatch < 1 {
		return f, fmt.Errorf("--pg-max-batch must be at least 1, got %d", f.pgMaxBatch)
	}
	if f.gcHeapFloorMiB < 0 || f.gcHeapFloorMiB > maxHeapFloorMiB {
		return f, fmt.Errorf("--gc-heap-floor-mib must be between 0 (off) and %d, got %d", maxHeapFloorMiB, f.gcHeapFloorMiB)
	}
	if f.maxClockSkew <= 0 {
		return f, fmt.Errorf("--max-clock-skew must be a positive duration such as 24h, got %s", f.maxClockSkew)
	}
	if err := f.limits.check(); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return f, errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsClientCA != "" && f.tlsCert == "" {
		return f, errors.New("--tls-client-ca needs --tls-cert and --tls-key")
	}
	if (f.nationalListen == "") != (f.nationalConfig == "") {
		return f, errors.New("--national-listen and --national-config go together (the demo's config: examples/national-config.json)")
	}
	return f, nil
}

// serve runs the gRPC server until ctx ends (SIGTERM), then drains.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if before, after := serveProcs(os.Getenv); after != before {
		log.Info("GOMAXPROCS raised (set GOMAXPROCS to choose another count)", "from", before, "to", after)
	}
	if floor := serveHeapFloor(f.gcHeapFloorMiB, os.Getenv, log); floor != nil {
		defer floor.stop()
	}
	stopTelemetry, _, err := setupTelemetry(ctx, log, f.metricsListen)
	if err != nil {
		return fmt.Errorf("OpenTelemetry (OTEL_EXPORTER_OTLP_*, --metrics-listen): %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTelemetry(sctx); err != nil {
			log.Warn("flushing telemetry", "err", err)
		}
	}()

	if f.pprofListen != "" {
		if _, err := startPprof(f.pprofListen, log); err != nil {
			return err
		}
		if f.pprofMutexFraction > 0 {
			runtime.SetMutexProfileFraction(f.pprofMutexFraction)
		}
	}
	tokens := &api.Tokens{}
	if f.tokens != "" {
		if tokens, err = api.LoadTokens(f.tokens, log); err != nil {
			return err
		}
	}
	if tokens.Open() && !isLoopback(f.listen) && !f.insecure {
		return fmt.Errorf("refusing to serve %s without credentials: give --tokens FILE, listen on a loopback address, or pass --insecure", f.listen)
	}
	st, storeName, closeStore, err := openStore(ctx, f.databaseURL, f.databaseSchema, f.pgMaxBatch, log)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := loadInitialData(ctx, st, f.demo, f.policies, log); err != nil {
		return err
	}
	var opts []grpc.ServerOption
	var tlsCfg *tls.Config
	if f.tlsCert != "" {
		if tlsCfg, err = tlsConfig(f.tlsCert, f.tlsKey, f.tlsClientCA); err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	timed := api.WithStoreTimeouts(st, f.storeTimeouts)
	srv, health, local := api.NewServerWithLocal(api.Config{Store: timed, Tokens: tokens, Log: log, ServerOptions: opts, Limits: f.limits.Limits, MaxClockSkew: f.maxClockSkew})
	maxConns := setupConnectionCap(f.limits.maxConnections, log)
	var gateway *gatewayServer
	if f.nationalListen != "" {
		// Before the gRPC listener: a bad config or a taken address stops
		// the start.
		if gateway, err = startNational(f, st, timed, local, tlsCfg, maxConns, log); err != nil {
			return err
		}
	}
	tcp, err := net.Listen("tcp", f.listen)
	if err != nil {
		if gateway != nil {
			gateway.close()
		}
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	lis := newLimitListener(tcp, maxConns, log)
	log.Info("medsettle serving", "addr", lis.Addr().String(), "store", storeName, "tls", f.tlsCert != "")
	log.Info("limits", "limits", f.limits.Limits.WithDefaults().String(), "max_connections", maxConns)
	if tokens.Open() {
		log.Warn("no --tokens given: open mode, every caller is admin")
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(lis) }()
	if gateway != nil {
		go func() { errc <- gateway.serve() }()
	}
	var serveErr error
	select {
	case serveErr = <-errc:
		log.Error("a listener stopped; stopping the server", "err", serveErr)
	case <-ctx.Done():
	}
	log.Info("draining calls in flight", "timeout", drainTimeout)
	health.Shutdown()
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	if gateway != nil {
		// The gateway's requests drain alongside: each ends within its
		// request timeout, well inside drainTimeout.
		gateway.shutdown(drainTimeout, log)
	}
	select {
	case <-done:
	case <-time.After(drainTimeout):
		log.Warn("drain timed out; stopping")
		srv.Stop()
	}
	log.Info("stopped")
	return serveErr
}

// openStore picks the store: PostgreSQL for a URL (migrated at start),
// else the embedded one.
func openStore(ctx context.Context, databaseURL, schema string, maxBatch int, log *slog.Logger) (store.Store, string, func(), error) {
	if databaseURL == "" {
		return memstore.New(), "embedded in-memory store (nothing survives a restart)", func() {}, nil
	}
	octx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := pgstore.Open(octx, databaseURL, pgstore.Options{Schema: schema, Log: log, MaxBatch: maxBatch})
	if err != nil {
		return nil, "", nil, fmt.Errorf("open PostgreSQL store (--database-url / MEDSETTLE_DATABASE_URL): %w", err)
	}
	return st, "PostgreSQL, schema " + st.Schema(), st.Close, nil
}

// isLoopback reports whether a listen address only accepts local connections.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsConfig is the server's TLS configuration from --tls-cert, --tls-key
// and --tls-client-ca, for gRPC and the national gateway alike.
func tlsConfig(certFile, keyFile, clientCA string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s holds no PEM certificate", clientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
