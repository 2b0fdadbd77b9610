package api

import (
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestRatioFixed checks that a DRG case's cost ratio reads with exactly
// four decimals, as CLEARING.md reports r.
func TestRatioFixed(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0.0000", "1": "1.0000", "1.2": "1.2000", "0.05": "0.0500", "0.0001": "0.0001",
		"12.3456": "12.3456", "250": "250.0000",
	} {
		if got := ratioFixed(engine.MustRatio(in)); got != want {
			t.Errorf("ratioFixed(%s) = %q, want %q", in, got, want)
		}
	}
}
