package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/medsettle/medsettle/api"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// importResidents registers residents 0 … n−1 through ImportPersons
// calls of api.MaxImportPersons, streams of them at once, as a county's
// registry would be loaded.
func importResidents(ctx context.Context, addr string, n, streams int, progress func(done int64)) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := pb.NewRegistryServiceClient(conn)
	calls := make(chan int) // first person of each call
	go func() {
		defer close(calls)
		for first := 0; first < n; first += api.MaxImportPersons {
			select {
			case calls <- first:
			case <-ctx.Done():
				return
			}
		}
	}()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := range calls {
				if err := importCall(ctx, client, first, min(first+api.MaxImportPersons, n)); err != nil {
					errs <- err
					return
				}
				progress(done.Add(int64(min(api.MaxImportPersons, n-first))))
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// importCall imports residents [from, to) in one ImportPersons call.
func importCall(ctx context.Context, client pb.RegistryServiceClient, from, to int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.ImportPersons(ctx)
	if err != nil {
		return err
	}
	for i := from; i < to; i++ {
		if err := stream.Send(&pb.ImportPersonsRequest{Person: personOf(i)}); err != nil {
			break // the error comes with CloseAndRecv
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return fmt.Errorf("ImportPersons %s…: %w", personID(from), err)
	}
	if resp.GetRejected() > 0 {
		return fmt.Errorf("ImportPersons %s…: %d rejected, the first: %v", personID(from), resp.GetRejected(), resp.GetRejections()[0])
	}
	return nil
}

// vacuumPersons runs VACUUM (ANALYZE) on the schema's persons table, as
// autovacuum would after a bulk load.
func vacuumPersons(ctx context.Context, url, schema string) (time.Duration, error) {
	start := time.Now()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{schema, "persons"}.Sanitize())
	return time.Since(start), err
}

// dropSchema drops a schema made in a database given with -database-url.
func dropSchema(url, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}
