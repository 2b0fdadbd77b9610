package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// typicalClaim is a 20-line inpatient bill: beds, surgery, capped and
// uncapped drugs of categories A and B, a stent over its price cap and
// self-pay (C) items, with fractional quantities.
func typicalClaim(reqID string) *pb.SettleRequest {
	req := &pb.SettleRequest{
		RequestId: reqID, InstitutionId: "BJ-H3", PersonId: "L1",
		VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-06-15",
	}
	lines := []struct{ code, qty, price string }{
		{"A-BED", "12", "80"}, {"A-SURG", "1", "18500"}, {"A-DRUG", "40", "15.0000"}, {"A-DRUG", "12.5", "11.2000"},
		{"B-DRUG", "100", "10"}, {"B-DRUG", "33.3333", "7.5000"}, {"B-STENT", "1", "9800"}, {"C-VIP", "5", "200"},
		{"A-BED", "2", "120"}, {"A-SURG", "1", "2400"}, {"B-DRUG", "8", "45.6000"}, {"A-DRUG", "3", "12.5000"},
		{"C-VIP", "1", "88.88"}, {"B-DRUG", "0.5", "301.0000"}, {"A-SURG", "2", "650"}, {"UNLISTED-01", "1", "73.40"},
		{"B-STENT", "1", "7600"}, {"A-DRUG", "60", "9.9900"}, {"B-DRUG", "14", "3.3300"}, {"A-BED", "1", "80"},
	}
	for i, l := range lines {
		amount, _ := engine.MustPrice(l.price).MulQuantity(engine.MustQuantity(l.qty))
		req.Items = append(req.Items, &pb.LineItem{
			Code: l.code, Name: fmt.Sprintf("line %d", i+1), Quantity: l.qty, UnitPrice: l.price,
			Amount: amount.String(),
		})
	}
	return req
}

func residentPolicy(b *testing.B) *engine.Policy {
	b.Helper()
	raw, err := os.ReadFile("../examples/policies/610300-resident-2026.1.json")
	if err != nil {
		b.Fatal(err)
	}
	p, err := api.ParsePolicyJSON(raw)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// engineInput is the typical claim for a minimum-living resident who has
// already spent this year, so that all three layers pay.
func engineInput(b *testing.B) engine.Input {
	b.Helper()
	pol := residentPolicy(b)
	var claim engine.Claim
	claim.RequestID, claim.InstitutionID, claim.PersonID = "bench", "BJ-H3", "L1"
	claim.VisitType = engine.VisitInpatient
	claim.SettleDate = engine.Date{Year: 2026, Month: 6, Day: 15}
	for _, it := range typicalClaim("bench").GetItems() {
		claim.Items = append(claim.Items, engine.LineItem{
			Code: it.GetCode(), Name: it.GetName(),
			Quantity:  engine.MustQuantity(it.GetQuantity()),
			UnitPrice: engine.MustPrice(it.GetUnitPrice()),
			Amount:    engine.MustMoney(it.GetAmount()),
		})
	}
	acc := engine.NewAccumulators("L1", 2026)
	acc.InpatientCount = 1
	acc.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{engine.VisitInpatient: {InScope: engine.Yuan(20000), DeductiblePaid: engine.Yuan(800)}}
	acc.PoolUsed = map[string]engine.Money{"inpatient": engine.Yuan(12480)}
	acc.CatastrophicBase = engine.Yuan(7520)
	acc.CatastrophicPaid = engine.MustMoney("1638")
	acc.AidBase = engine.Yuan(5882)
	acc.AidPaid = engine.MustMoney("3417.40")
	acc.AidOutOfPocket = engine.MustMoney("2464.60")
	return engine.Input{
		Policy: pol,
		Person: engine.Person{ID: "L1", Region: "610300", Scheme: engine.SchemeResident, Category: engine.CategoryMinimumLiving, ContributionYears: 5},
		Institution: engine.Institution{ID: "BJ-H3", Region: "610300", Level: 3,
			Budgets: []engine.Budget{{Year: 2026, Amount: engine.Yuan(500000)}}},
		Claim:        claim,
		Accumulators: acc,
		BudgetUsed:   engine.Yuan(120000),
	}
}

// BenchmarkEngineSettle20Lines is engine.Settle alone on the typical
// 20-line inpatient claim through basic fund, catastrophic insurance and
// medical aid.
func BenchmarkEngineSettle20Lines(b *testing.B) {
	in := engineInput(b)
	res, err := engine.Settle(in)
	if err != nil {
		b.Fatal(err)
	}
	if !res.Breakdown.BasicFund.IsPositive() || !res.Breakdown.Catastrophic.IsPositive() || !res.Breakdown.MedicalAid.IsPositive() {
		b.Fatalf("not all three layers pay: %+v", res.Breakdown)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engine.Settle(in); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// grpcClient serves a store with the resident policy, BJ-H3 and 64
// minimum-living residents on a loopback socket and returns a client.
func grpcClient(b *testing.B, st store.Store) pb.SettlementServiceClient {
	b.Helper()
	ctx := context.Background()
	if err := st.PutPolicy(ctx, residentPolicy(b)); err != nil {
		b.Fatal(err)
	}
	if err := st.PutInstitution(ctx, engine.Institution{ID: "BJ-H3", Region: "610300", Level: 3,
		Budgets: []engine.Budget{{Year: 2026, Amount: engine.Yuan(1_000_000_000)}}}); err != nil {
		b.Fatal(err)
	}
	for i := range 64 {
		p := engine.Person{ID: fmt.Sprintf("P%d", i), Region: "610300", Scheme: engine.SchemeResident, Category: engine.CategoryMinimumLiving}
		if err := st.PutPerson(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	return pb.NewSettlementServiceClient(serveStore(b, st))
}

// serveStore serves st through the API on a loopback socket, in open mode,
// and returns a connection to it.
func serveStore(b *testing.B, st store.Store) *grpc.ClientConn {
	b.Helper()
	srv, _ := api.NewServer(api.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

func newStore(b *testing.B, kind string) store.Store {
	b.Helper()
	if kind == "memstore" {
		return memstore.New()
	}
	url := pgtest.URL(b)
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: pgtest.Schema(b, url)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	return st
}

var requestSeq atomic.Int64

// BenchmarkGRPCSettle20Lines is one Settle call at a time through a real
// gRPC server on a loopback socket: decoding, validation, the engine, the
// store's commit and the reply. Each call settles a new request id for one
// of 64 persons.
func BenchmarkGRPCSettle20Lines(b *testing.B) {
	for _, kind := range []string{"memstore", "pgstore"} {
		b.Run(kind, func(b *testing.B) {
			client := grpcClient(b, newStore(b, kind))
			req := typicalClaim("")
			b.ReportAllocs()
			for b.Loop() {
				n := requestSeq.Add(1)
				req.RequestId = fmt.Sprintf("bench-%d", n)
				req.PersonId = fmt.Sprintf("P%d", n%64)
				if _, err := client.Settle(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGRPCSettle20LinesParallel is the same call from 16 concurrent
// clients per core (GOMAXPROCS): ns/op is the inverse of throughput.
func BenchmarkGRPCSettle20LinesParallel(b *testing.B) {
	for _, kind := range []string{"memstore", "pgstore"} {
		b.Run(kind, func(b *testing.B) {
			client := grpcClient(b, newStore(b, kind))
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := typicalClaim("")
				for pb.Next() {
					n := requestSeq.Add(1)
					req.RequestId = fmt.Sprintf("bench-%d", n)
					req.PersonId = fmt.Sprintf("P%d", n%64)
					if _, err := client.Settle(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
