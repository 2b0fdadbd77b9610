package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// reverseFails is a store whose Reverse fails with err.
type reverseFails struct {
	store.Store
	err error
}

func (r reverseFails) Reverse(context.Context, store.Reversal) (engine.Settlement, error) {
	return engine.Settlement{}, r.err
}

// TestBugIsInternalWithRequestID: an error that is not an outage (a scan
// into the wrong type) is INTERNAL, never "retry", and the error log names
// the request id; an outage is UNAVAILABLE, logged with the request id too.
func TestBugIsInternalWithRequestID(t *testing.T) {
	admin := context.WithValue(context.Background(), principalKey{}, Principal{Role: RoleAdmin})
	cases := []struct {
		err   error
		code  codes.Code
		level string
	}{
		{fmt.Errorf("can't scan into dest[3]: cannot scan text into *int16"), codes.Internal, "level=ERROR"},
		{fmt.Errorf("%w: conn closed", store.ErrUnavailable), codes.Unavailable, "level=WARN"},
	}
	for _, c := range cases {
		var logged bytes.Buffer
		s := &SettlementService{store: reverseFails{memstore.New(), c.err}, log: slog.New(slog.NewTextHandler(&logged, nil)), tel: newTelemetry()}
		_, err := s.ReverseSettlement(admin, &pb.ReverseSettlementRequest{RequestId: "RQ-TRUTH-1", SettlementId: "ST1", Reason: "test"})
		if got := status.Code(err); got != c.code {
			t.Errorf("%v: code %v, want %v", c.err, got, c.code)
		}
		if c.code == codes.Internal && strings.Contains(status.Convert(err).Message(), "retry") {
			t.Errorf("%v: INTERNAL message %q says retry", c.err, status.Convert(err).Message())
		}
		if !strings.Contains(logged.String(), "request_id=RQ-TRUTH-1") || !strings.Contains(logged.String(), c.level) {
			t.Errorf("%v: log %q lacks request_id=RQ-TRUTH-1 at %s", c.err, logged.String(), c.level)
		}
	}
}

// TestNoPolicyHintIsTheAPIs: the engine says what is missing; the API adds
// how a caller loads it.
func TestNoPolicyHintIsTheAPIs(t *testing.T) {
	d, _ := engine.ParseDate("2026-02-10")
	_, err := engine.SelectPolicy(nil, "350500", engine.SchemeEmployee, d)
	st := status.Convert(toStatus(context.Background(), discard, "Settle", err))
	if st.Code() != codes.FailedPrecondition {
		t.Fatalf("code %v, want FAILED_PRECONDITION", st.Code())
	}
	want := "no employee policy of region 350500 covers 2026-02-10; load one with PolicyService.PutPolicy"
	if !strings.HasSuffix(st.Message(), want) {
		t.Errorf("message %q, want it to end in %q", st.Message(), want)
	}
	if !errors.Is(err, engine.ErrNoPolicy) {
		t.Errorf("err %v is not ErrNoPolicy", err)
	}
}
