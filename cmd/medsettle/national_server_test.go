package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/api/national"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// demoNationalConfig is the demo gateway config README.md and
// docs/NATIONAL.md name.
const demoNationalConfig = "../../examples/national-config.json"

// gatewayDemo is the demo data served as `serve --demo` serves it, on
// a real gRPC listener and a real HTTP listener of the national gateway
// sharing one store: the same store, engine, access rules and audit.
type gatewayDemo struct {
	st     store.Store
	gw     string // the gateway's base URL
	grpc   pb.SettlementServiceClient
	clear  pb.ClearingServiceClient
	cfg    national.Config
	client *http.Client
}

// startGatewayDemo starts the demo on the embedded store (dbURL "") or
// on a fresh schema of PostgreSQL, with the clock now (time.Now when
// nil).
func startGatewayDemo(t *testing.T, dbURL string, now func() time.Time) *gatewayDemo {
	t.Helper()
	ctx := context.Background()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	schema := pgstore.DefaultSchema
	if dbURL != "" {
		schema = pgtest.Schema(t, dbURL)
	}
	st, _, closeStore, err := openStore(ctx, dbURL, schema, pgstore.DefaultMaxBatch, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	if err := loadInitialData(ctx, st, true, nil, log); err != nil {
		t.Fatal(err)
	}
	cfg, err := national.LoadConfig(demoNationalConfig)
	if err != nil {
		t.Fatal(err)
	}
	if now == nil {
		now = time.Now
	}
	// The store records settlements and visits on the same clock.
	if c, ok := st.(store.Clocked); ok {
		c.SetClock(now)
	}
	srv, _, local := api.NewServerWithLocal(api.Config{Store: st, Log: log, Now: now})
	visits, ok := st.(store.VisitStore)
	if !ok {
		t.Fatalf("store %T keeps no visits", st)
	}
	g, err := national.New(cfg, local, st, visits, national.WithClock(now), national.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	hs := httptest.NewServer(g)
	t.Cleanup(func() {
		hs.Close()
		srv.Stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &gatewayDemo{st: st, gw: hs.URL, grpc: pb.NewSettlementServiceClient(conn),
		clear: pb.NewClearingServiceClient(conn), cfg: cfg, client: hs.Client()}
}

// his is a client of institution fixmedins on s, with the clock now
// (time.Now when nil).
func (s *gatewayDemo) his(t testing.TB, fixmedins string, now func() time.Time) *hisClient {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	for _, c := range s.cfg.Institutions {
		if c.FixmedinsCode == fixmedins {
			return &hisClient{t: t, url: s.gw, path: "/fsi/api/rsfComIfsService/callService", code: c.FixmedinsCode,
				name: c.InstitutionID + " 医院", key: c.Key, secret: c.Secret, area: s.cfg.Area, now: now, http: s.client}
		}
	}
	t.Fatalf("no credential of %s in %s", fixmedins, demoNationalConfig)
	return nil
}

// serveGatewayDemo starts the binary's own `serve --demo --national-listen
// ADDR --national-config examples/national-config.json` (on PostgreSQL
// with --database-url and a fresh --database-schema when dbURL is set),
// waits until both faces answer, and stops it when the test ends.
func serveGatewayDemo(t *testing.T, dbURL string) *gatewayDemo {
	t.Helper()
	addr, gw := freeAddr(t), freeAddr(t)
	args := []string{"--demo", "--listen", addr, "--national-listen", gw, "--national-config", demoNationalConfig}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL, "--database-schema", pgtest.Schema(t, dbURL))
	}
	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, args, &logs) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("serve did not start: %v\n%s", err, logs.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", gw)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway does not listen on %s: %v\n%s", gw, err, logs.String())
		}
	}
	cfg, err := national.LoadConfig(demoNationalConfig)
	if err != nil {
		t.Fatal(err)
	}
	return &gatewayDemo{gw: "http://" + gw, grpc: pb.NewSettlementServiceClient(conn), clear: pb.NewClearingServiceClient(conn),
		cfg: cfg, client: &http.Client{Timeout: 30 * time.Second}}
}

// stores runs f on the embedded store and on PostgreSQL (skipped, or
// failed under CI, when there is none).
func stores(t *testing.T, f func(t *testing.T, dbURL string)) {
	t.Run("memstore", func(t *testing.T) { f(t, "") })
	t.Run("pgstore", func(t *testing.T) { f(t, pgtest.URL(t)) })
}
