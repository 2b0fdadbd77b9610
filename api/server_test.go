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
)

// testServer is a real gRPC server on a loopback socket.
type testServer struct {
	conn       *grpc.ClientConn
	store      store.Store
	settlement pb.SettlementServiceClient
	registry   pb.RegistryServiceClient
	policy     pb.PolicyServiceClient
}

// startServer serves a fresh memstore with the given token → role table
// (nil: open mode) on 127.0.0.1 and connects a client to it.
func startServer(t *testing.T, roles map[string]string) *testServer {
	t.Helper()
	var tokens *Tokens
	if roles != nil {
		var err error
		if tokens, err = NewTokens(roles); err != nil {
			t.Fatal(err)
		}
	}
	st := memstore.New()
	srv, _ := NewServer(Config{Store: st, Tokens: tokens, Log: discard})
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

// as returns a context carrying a bearer token.
func as(token string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if token == "" {
		return ctx, cancel
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), cancel
}
