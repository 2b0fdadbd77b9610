package api

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// startClockServer serves a fresh memstore with the demo fixtures of
// crossServer and a clock of its own.
func startClockServer(t *testing.T, now time.Time, skew time.Duration) *testServer {
	t.Helper()
	tokens, err := NewTokens(crossRoles())
	must(t, err)
	st := memstore.New()
	srv, _ := NewServer(Config{Store: st, Tokens: tokens, Log: discard, Now: func() time.Time { return now }, MaxClockSkew: skew})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return crossServer(t, &testServer{conn: conn, store: st, settlement: pb.NewSettlementServiceClient(conn),
		registry: pb.NewRegistryServiceClient(conn), policy: pb.NewPolicyServiceClient(conn)})
}

// TestSettleDateInFuture: a settle date after the server's date (China
// Standard Time) plus the clock-skew allowance is INVALID_ARGUMENT on
// settle_date, for PreSettle and Settle, named with the other bad fields;
// nothing is recorded under the request id.
func TestSettleDateInFuture(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		must(t, err)
		return v
	}
	for _, tc := range []struct {
		name     string
		now      string
		skew     time.Duration
		ok, late string
	}{
		// 15:04 in Beijing: tomorrow is allowed, the day after is not.
		{"default allowance", "2026-11-27T07:04:33Z", 0, "2026-11-28", "2026-11-29"},
		// 00:30 in Beijing is already the next day.
		{"after midnight in Beijing", "2026-11-27T16:30:00Z", 0, "2026-11-29", "2026-11-30"},
		{"an hour's allowance", "2026-11-27T07:00:00Z", time.Hour, "2026-11-27", "2026-11-28"},
		{"an hour's allowance at 23:30", "2026-11-27T15:30:00Z", time.Hour, "2026-11-28", "2026-11-29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startClockServer(t, utc(tc.now), tc.skew)
			req := claim("d-1", "QZ-H3", "E1", "1000")
			req.SettleDate = tc.ok
			if _, err := (grpcReplayer{ts}).settle("QZ-H3", req, false); err != nil {
				t.Fatalf("PreSettle on %s: %v", tc.ok, err)
			}
			before := accumulatorsJSON(t, ts, "E1")
			req.SettleDate = tc.late
			for _, commit := range []bool{false, true} {
				_, err := grpcReplayer{ts}.settle("QZ-H3", req, commit)
				if got := fieldViolations(t, err); !slices.Equal(got, []string{"settle_date"}) {
					t.Errorf("commit %t on %s: violations %v", commit, tc.late, got)
				}
				if msg := status.Convert(err).Message(); !strings.Contains(msg, tc.late+" is in the future") || !strings.Contains(msg, "up to "+tc.ok) {
					t.Errorf("message %q", msg)
				}
			}
			bad := proto.Clone(req).(*pb.SettleRequest)
			bad.Items[0].Amount = "1000.01"
			_, err := grpcReplayer{ts}.settle("QZ-H3", bad, true)
			if got := fieldViolations(t, err); !slices.Equal(got, []string{"items[0].amount", "settle_date"}) {
				t.Errorf("with a wrong amount too: violations %v", got)
			}
			if after := accumulatorsJSON(t, ts, "E1"); after != before {
				t.Errorf("a refused settle date changed the accumulators")
			}
			// Nothing was recorded under the id: with the date fixed it settles.
			req.SettleDate = tc.ok
			if _, err := (grpcReplayer{ts}).settle("QZ-H3", req, true); err != nil {
				t.Errorf("the same request id with a good date: %v", err)
			}
		})
	}
}
