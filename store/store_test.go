package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestReversalAllowedNamesNoOwner checks that refusing another
// institution's reversal does not say whose settlement it is.
func TestReversalAllowedNamesNoOwner(t *testing.T) {
	st := engine.Settlement{ID: "S1", Claim: engine.Claim{InstitutionID: "HOSPITAL-OWNER"}}
	err := store.Reversal{SettlementID: "S1", Institution: "HOSPITAL-OTHER"}.Allowed(st)
	if !errors.Is(err, engine.ErrForbidden) {
		t.Fatalf("another institution: %v, want ErrForbidden", err)
	}
	if strings.Contains(err.Error(), "HOSPITAL-OWNER") {
		t.Errorf("the refusal names the owner: %v", err)
	}
	for _, r := range []store.Reversal{{SettlementID: "S1"}, {SettlementID: "S1", Institution: "HOSPITAL-OWNER"}} {
		if err := r.Allowed(st); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
}
