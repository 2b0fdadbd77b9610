package engine_test

import (
	"errors"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestSettleTrustsValidatedClaim: a claim validated once by its entry
// point (Input.ClaimValidated) is not validated again by Settle, and an
// unvalidated one still is.
func TestSettleTrustsValidatedClaim(t *testing.T) {
	g := newGen(t)
	for i := 0; i < 50; i++ {
		in := g.input()
		want, err := engine.Settle(in)
		if err != nil {
			continue
		}
		// A request id ValidateClaim refuses plays no part in the arithmetic.
		in.Claim.RequestID = ""
		if _, err := engine.Settle(in); !errors.Is(err, engine.ErrInvalid) {
			t.Fatalf("unvalidated claim without request id: %v, want ErrInvalid", err)
		}
		in.ClaimValidated = true
		got, err := engine.Settle(in)
		if err != nil {
			t.Fatalf("validated claim: %v", err)
		}
		if !got.Breakdown.Total.Equal(want.Breakdown.Total) || !got.Breakdown.FundTotal.Equal(want.Breakdown.FundTotal) {
			t.Fatalf("validated claim settles %+v, want %+v", got.Breakdown, want.Breakdown)
		}
		return
	}
	t.Fatal("no generated input settled")
}
