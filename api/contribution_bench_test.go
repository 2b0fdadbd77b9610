package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// BenchmarkExportPlan streams a plan of 100,000 residents (a quarter of
// them subsidised, some by two identities), in open mode, from the embedded store
// through gRPC on loopback: the cost of ExportPlan besides the store's
// walk, per plan (rows/s is reported).
func BenchmarkExportPlan(b *testing.B) {
	const n = 100_000
	st := memstore.New()
	persons := make([]engine.Person, n)
	for i := range persons {
		p := engine.Person{ID: fmt.Sprintf("R%07d", i), Name: "x", Region: contributionRegion, Scheme: engine.SchemeResident}
		switch i % 8 {
		case 0:
			p.Category = engine.CategoryMinimumLiving
			p.Identities = []engine.Identity{{Category: engine.CategoryMonitored,
				ValidFrom: engine.Date{Year: 2025, Month: 7, Day: 1}, ValidTo: engine.Date{Year: 2027, Month: 6, Day: 30}}}
		case 1:
			p.Category = engine.CategoryDestitute
		}
		persons[i] = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.PutPersons(ctx, persons); err != nil {
		b.Fatal(err)
	}
	srv, _ := NewServer(Config{Store: st, Log: discard, Now: testNow})
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
	b.Cleanup(func() { _ = conn.Close() })
	client := pb.NewContributionServiceClient(conn)
	req := &pb.ExportPlanRequest{Region: contributionRegion, Scheme: pb.Scheme_SCHEME_RESIDENT, Year: 2026}
	policy, err := policyFromProto(contributionPolicy(contributionRegion, seed003Section()))
	if err != nil {
		b.Fatal(err)
	}
	if err := st.PutPolicy(ctx, policy); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		stream, err := client.ExportPlan(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		var m pb.ExportPlanResponse
		for {
			if err := stream.RecvMsg(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			if m.GetRow() != nil {
				rows++
			}
		}
		if rows != n {
			b.Fatalf("%d rows", rows)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
