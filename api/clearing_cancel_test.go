package api

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// holdingStore holds its first final clearing run at the first progress
// report until the run's context ends, so that a test can cancel a run
// while it reads, deterministically. The run to hold is chosen when it
// enters RunClearing, before it reports: a later final run (the client's
// retry, which may reach its first report before the cancelled run's
// goroutine reaches its hold) is never held.
type holdingStore struct {
	store.Store
	claimed atomic.Bool
}

func (h *holdingStore) RunClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	if !sel.Final || !h.claimed.CompareAndSwap(false, true) {
		return h.Store.RunClearing(ctx, sel, c, progress)
	}
	held := false
	return h.Store.RunClearing(ctx, sel, c, func(processed, total int64) {
		progress(processed, total)
		if held {
			return
		}
		held = true
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	})
}

// TestClearingCancelledRunStoresNothing: a client that cancels the stream
// cancels the run: the final run it asked for is not stored (another
// final of the same key then succeeds) and the earlier draft stays.
func TestClearingCancelledRunStoresNothing(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := clearingServerOn(t, &holdingStore{Store: newStore(t, kind)})
			drgExample(c)
			draft := c.mustRun(drgRun("100000"))
			ctx, cancel := as(clearingToken)
			defer cancel()
			req := drgRun("100000")
			req.Final = true
			stream, err := c.clearing.RunClearing(ctx, req)
			must(t, err)
			first, err := stream.Recv()
			must(t, err)
			if first.GetProgress() == nil {
				t.Fatalf("first message %v, want progress", first)
			}
			cancel()
			for {
				if _, err = stream.Recv(); err != nil {
					break
				}
			}
			wantCode(t, err, codes.Canceled)

			final := c.mustRun(req) // no final was stored by the cancelled run
			if !final.GetFinal() || final.GetPaidTotal() != "95000.00" {
				t.Errorf("final after a cancelled final: %v", final)
			}
			_, err = c.statement(clearingToken, &pb.GetStatementRequest{RunId: draft.GetRunId(), InstitutionId: "H1"})
			must(t, err)
		})
	}
}
