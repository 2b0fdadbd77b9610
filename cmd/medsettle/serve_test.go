package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		// The kernel may give a port just closed again: a test taking two
		// (a server's and its metrics' or gateway's) got one port twice
		// and its server failed to listen. None is handed out twice.
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
}

// handedOut are the addresses freeAddr returned in this process.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// TestServeDemoSettlesAndDrains starts `serve --demo` as the binary does,
// settles the README's claim, then stops it as SIGTERM would.
func TestServeDemoSettlesAndDrains(t *testing.T) {
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, []string{"--demo", "--listen", addr}, &logs) }()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewSettlementServiceClient(conn)
	req := &pb.SettleRequest{
		RequestId: "HIS-0001", InstitutionId: "QZ-H3", PersonId: "E1",
		VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-02-10",
		Items: []*pb.LineItem{
			{Code: "A-BED", Name: "bed", Quantity: "10", UnitPrice: "80", Amount: "800.00"},
			{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: "7200", Amount: "7200.00"},
		},
	}
	var resp *pb.SettleResponse
	deadline := time.Now().Add(10 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err = client.Settle(cctx, req, grpc.WaitForReady(true))
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("settle: %v\n%s", err, logs.String())
	}
	if b := resp.GetSettlement().GetBreakdown(); b.GetBasicFund() != "6441.00" || b.GetCash() != "1559.00" {
		t.Errorf("breakdown %v", b)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	for _, want := range []string{"embedded in-memory store", "open mode", "demo data loaded", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestServeRefusesOpenModeOffLoopback(t *testing.T) {
	var logs syncBuffer
	err := serve(context.Background(), []string{"--listen", "0.0.0.0:0"}, &logs)
	if err == nil || !strings.Contains(err.Error(), "--tokens") {
		t.Fatalf("want a refusal naming --tokens, got %v", err)
	}
}

func TestServeFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--tls-cert", "a.pem"},
		{"--tls-client-ca", "ca.pem"},
		{"--policy", "/nonexistent/policy.json"},
		{"--tokens", "/nonexistent/tokens.json"},
		{"extra"},
	} {
		var logs syncBuffer
		if err := serve(context.Background(), append(args, "--listen", "127.0.0.1:0"), &logs); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "localhost:1": true, "[::1]:1": true, "127.9.9.9:1": true,
		"0.0.0.0:1": false, ":1": false, "10.0.0.1:1": false, "[::]:1": false, "nonsense": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v", addr, got)
		}
	}
}
