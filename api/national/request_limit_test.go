package national

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestRequestLimit: a handler's context ends at the request limit
// (WithRequestTimeout), both for a handler that waits on Done and for one
// that only reads Err after working past it, and the request is answered
// infcode -1.
func TestRequestLimit(t *testing.T) {
	const limit = 40 * time.Millisecond
	s := newServed(t, SchemeXTif, WithRequestTimeout(limit))
	seen := make(chan error, 1)
	register("0995", func(ctx context.Context, _ *Gateway, _ *Call, _ json.RawMessage) (any, error) {
		if err := ctx.Err(); err != nil {
			t.Errorf("the context ended before the limit: %v", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			seen <- errors.New("Done not closed within 5 s of a 40 ms limit")
			return struct{}{}, nil
		}
		seen <- ctx.Err()
		return nil, ctx.Err()
	})
	register("0994", func(ctx context.Context, _ *Gateway, _ *Call, _ json.RawMessage) (any, error) {
		time.Sleep(limit + 10*time.Millisecond)
		seen <- ctx.Err()
		return nil, ctx.Err()
	})
	defer delete(handlers, "0995")
	defer delete(handlers, "0994")
	for _, infno := range []string{"0995", "0994"} {
		code, r, raw := s.post(infno, `{}`)
		if err := <-seen; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: the handler's context ended with %v, want DeadlineExceeded", infno, err)
		}
		if code != http.StatusOK || r.Infcode != "-1" {
			t.Fatalf("%s: HTTP %d %s", infno, code, raw)
		}
	}
}
