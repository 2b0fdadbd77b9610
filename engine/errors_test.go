package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestValidationErrorIsBounded checks that the text of a validation error
// with thousands of violations states the first MaxErrorViolations and
// counts the rest, while Violations keeps every one.
func TestValidationErrorIsBounded(t *testing.T) {
	var v engine.Violations
	for i := range 2000 {
		v.Addf(fmt.Sprintf("items[%d].amount", i), "is 10.01 but round(quantity 1 × unit_price 10) is 10.00")
	}
	err := v.Err()
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid argument: items[0].amount: is 10.01") || !strings.HasSuffix(msg, " (and 1990 more)") {
		t.Errorf("message %q", msg)
	}
	if strings.Contains(msg, fmt.Sprintf("items[%d]", engine.MaxErrorViolations)) {
		t.Errorf("message states more than %d violations: %q", engine.MaxErrorViolations, msg)
	}
	if len(msg) > 1024 {
		t.Errorf("message of %d bytes", len(msg))
	}
	if ve := err.(*engine.ValidationError); len(ve.Violations) != 2000 {
		t.Errorf("%d violations kept, want 2000", len(ve.Violations))
	}
	// A few violations are all stated.
	var w engine.Violations
	w.Addf("request_id", "is required")
	w.Addf("settle_date", "is required (YYYY-MM-DD)")
	if got, want := w.Err().Error(), "invalid argument: request_id: is required; settle_date: is required (YYYY-MM-DD)"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// TestSelectPolicySpeaksTheDomain: the engine's message names the scheme
// and region in its own words, no gRPC service or proto enum spelling.
func TestSelectPolicySpeaksTheDomain(t *testing.T) {
	d, err := engine.ParseDate("2026-02-10")
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.SelectPolicy(nil, "350500", engine.SchemeEmployee, d)
	if !errors.Is(err, engine.ErrNoPolicy) {
		t.Fatalf("err = %v, want ErrNoPolicy", err)
	}
	want := "no employee policy of region 350500 covers 2026-02-10"
	if !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %q, want it to end in %q", err, want)
	}
	for _, bad := range []string{"Service", "SCHEME_", "PutPolicy"} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("err = %q names %q", err, bad)
		}
	}
}
