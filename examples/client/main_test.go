package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/examples"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// demoServer serves the demo data (what `medsettle serve --demo` loads) on
// the in-memory store at a loopback address, until the test ends.
func demoServer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	files, err := fs.Glob(examples.FS, "policies/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo policies: %v (%d files)", err, len(files))
	}
	for _, name := range files {
		raw, err := examples.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := api.ParsePolicyJSON(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := st.PutPolicy(ctx, p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	raw, err := examples.FS.ReadFile("demo/registry.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Institutions []json.RawMessage `json:"institutions"`
		Persons      []json.RawMessage `json:"persons"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Institutions {
		in, err := api.ParseInstitutionJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutInstitution(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range doc.Persons {
		p, err := api.ParsePersonJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := api.NewServer(api.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return serveOn(t, srv)
}

// serveOn serves srv on a free loopback port until the test ends.
func serveOn(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestRunSettlesTheDemoBill(t *testing.T) {
	addr := demoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"--addr", addr, "--request-id", "HIS-TEST-0001"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	// 0.87 × 4,300 above the 700 deductible plus 0.90 × 3,000 (README.md).
	for _, want := range []string{
		"preview: fund pays 6441.00, patient pays 1559.00\n",
		"(SETTLEMENT_STATE_SETTLED, CROSS_REGION_LOCAL, policy 2026.1)\n",
		"  medfee_sumamt           8000.00\n",
		"  act_pay_dedc             700.00\n",
		"  hifp_pay                6441.00\n",
		"  psn_cash_pay            1559.00\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}

	// A second run with the same request id settles nothing new: the
	// same settlement comes back. (Its preview differs: PreSettle prices
	// the bill as E1's second stay of the year, deductible 500.)
	var again bytes.Buffer
	if err := run(ctx, []string{"--addr", addr, "--request-id", "HIS-TEST-0001"}, &again); err != nil {
		t.Fatalf("second run: %v", err)
	}
	settled := func(s string) string { return s[strings.Index(s, "settlement "):] }
	if settled(again.String()) != settled(got) {
		t.Errorf("a retry with the same request id printed\n%s\nwant\n%s", again.String(), got)
	}
	if !strings.HasPrefix(again.String(), "preview: fund pays 6615.00, patient pays 1385.00\n") {
		t.Errorf("second preview: got\n%s", again.String())
	}
}

// flakySettlement answers Settle UNAVAILABLE twice, then OK, and records
// the request ids it was sent.
type flakySettlement struct {
	pb.UnimplementedSettlementServiceServer
	mu  sync.Mutex
	ids []string
}

func (f *flakySettlement) PreSettle(_ context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	return &pb.SettleResponse{Settlement: &pb.Settlement{RequestId: req.RequestId, Breakdown: &pb.Breakdown{FundTotal: "1.00", PersonalTotal: "2.00"}}}, nil
}

func (f *flakySettlement) Settle(_ context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, req.RequestId)
	if len(f.ids) <= 2 {
		return nil, status.Error(codes.Unavailable, "the database is unavailable; retry with the same request id")
	}
	return &pb.SettleResponse{Settlement: &pb.Settlement{
		SettlementId: "ST-1", RequestId: req.RequestId, State: pb.SettlementState_SETTLEMENT_STATE_SETTLED,
		Breakdown: &pb.Breakdown{BasicFund: "42.00"},
	}}, nil
}

func TestRunRetriesUnavailableWithTheSameRequestID(t *testing.T) {
	old := initialBackoff
	initialBackoff = 10 * time.Millisecond
	t.Cleanup(func() { initialBackoff = old })

	fake := &flakySettlement{}
	srv := grpc.NewServer()
	pb.RegisterSettlementServiceServer(srv, fake)
	addr := serveOn(t, srv)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"--addr", addr, "--request-id", "HIS-RETRY-1"}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	fake.mu.Lock()
	ids := strings.Join(fake.ids, ",")
	fake.mu.Unlock()
	if ids != "HIS-RETRY-1,HIS-RETRY-1,HIS-RETRY-1" {
		t.Errorf("Settle was sent request ids %q, want HIS-RETRY-1 three times", ids)
	}
	if !strings.Contains(out.String(), "  hifp_pay                  42.00\n") {
		t.Errorf("output lacks the settled basic fund:\n%s", out.String())
	}
}

// notRetried answers Settle with code every time.
type notRetried struct {
	pb.UnimplementedSettlementServiceServer
	code  codes.Code
	mu    sync.Mutex
	calls int
}

func (n *notRetried) PreSettle(_ context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	return &pb.SettleResponse{Settlement: &pb.Settlement{Breakdown: &pb.Breakdown{}}}, nil
}

func (n *notRetried) Settle(context.Context, *pb.SettleRequest) (*pb.SettleResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	return nil, status.Error(n.code, "no")
}

func TestRunDoesNotRetryOtherCodes(t *testing.T) {
	for _, c := range []codes.Code{codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition} {
		fake := &notRetried{code: c}
		srv := grpc.NewServer()
		pb.RegisterSettlementServiceServer(srv, fake)
		addr := serveOn(t, srv)
		err := run(context.Background(), []string{"--addr", addr}, io.Discard)
		if status.Code(err) != c {
			t.Errorf("%v: run returned %v, want that code", c, err)
		}
		if fake.calls != 1 {
			t.Errorf("%v: Settle was called %d times, want 1", c, fake.calls)
		}
	}
}
