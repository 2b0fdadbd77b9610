package api

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// testServer is a real gRPC server on a loopback socket.
type testServer struct {
	conn       *grpc.ClientConn
	store      store.Store
	settlement pb.SettlementServiceClient
	registry   pb.RegistryServiceClient
	policy     pb.PolicyServiceClient
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// storeKind names a store implementation the API tests run on.
type storeKind string

const (
	memKind storeKind = "memstore"
	pgKind  storeKind = "pgstore"
)

var storeKinds = []storeKind{memKind, pgKind}

// newStore opens a fresh store of a kind; PostgreSQL stores get a schema
// of their own.
func newStore(t *testing.T, kind storeKind) store.Store {
	t.Helper()
	if kind == memKind {
		return memstore.New()
	}
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: pgtest.Schema(t, url), Log: discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// startServer serves a fresh memstore with the given token → role table
// (nil: open mode) on 127.0.0.1 and connects a client to it.
func startServer(t *testing.T, roles map[string]string) *testServer {
	t.Helper()
	return startServerOn(t, memstore.New(), roles)
}

// startServerOn serves st with the given token → role table.
func startServerOn(t *testing.T, st store.Store, roles map[string]string) *testServer {
	t.Helper()
	var tokens *Tokens
	if roles != nil {
		var err error
		if tokens, err = NewTokens(roles); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := NewServer(Config{Store: st, Tokens: tokens, Log: discard, Now: testNow})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return &testServer{
		conn: conn, store: st,
		settlement: pb.NewSettlementServiceClient(conn),
		registry:   pb.NewRegistryServiceClient(conn),
		policy:     pb.NewPolicyServiceClient(conn),
	}
}

// testNow is the clock of the test servers: after every settle date the
// tests and vectors use (2027-01-05 is "no policy for 2027"), so that they
// do not depend on the day they run. TestSettleDateInFuture sets its own.
func testNow() time.Time { return time.Date(2027, time.December, 31, 12, 0, 0, 0, time.UTC) }

// as returns a context carrying a bearer token.
func as(token string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if token == "" {
		return ctx, cancel
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), cancel
}
