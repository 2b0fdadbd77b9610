package benchmarks

import (
	"context"
	"fmt"
	"testing"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// importCall is how many persons each benchmarked ImportPersons call sends.
const importCall = 10_000

// BenchmarkGRPCImportPersons is one ImportPersons call of importCall
// persons through a real gRPC server on a loopback socket, stored in one
// atomic step; persons/s is the throughput. Each call replaces the
// persons of the one before, as a re-run import does.
func BenchmarkGRPCImportPersons(b *testing.B) {
	for _, kind := range []string{"memstore", "pgstore"} {
		b.Run(kind, func(b *testing.B) {
			client := pb.NewRegistryServiceClient(serveStore(b, newStore(b, kind)))
			persons := make([]*pb.ImportPersonsRequest, importCall)
			for i := range persons {
				persons[i] = &pb.ImportPersonsRequest{Person: &pb.Person{
					PersonId: fmt.Sprintf("IMP%07d", i), Name: "bench", Region: "610300",
					Scheme: pb.Scheme_SCHEME_RESIDENT, ContributionYears: 5, AccountBalance: "0.00",
				}}
			}
			b.ReportAllocs()
			start, calls := time.Now(), 0
			for b.Loop() {
				stream, err := client.ImportPersons(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range persons {
					if err := stream.Send(p); err != nil {
						b.Fatal(err)
					}
				}
				resp, err := stream.CloseAndRecv()
				if err != nil || resp.GetImported() != importCall {
					b.Fatalf("import: %v, %v", resp, err)
				}
				calls++
			}
			b.ReportMetric(float64(calls*importCall)/time.Since(start).Seconds(), "persons/s")
		})
	}
}
