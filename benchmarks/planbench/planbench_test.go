package main

import (
	"os"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestExpectedTotals: of every 20 generated residents, on January 1, one
// is destitute (380), two minimum living (340 each, one also monitored),
// two monitored (190 each); the May-to-August destitute and the
// poverty-alleviated pay in full.
func TestExpectedTotals(t *testing.T) {
	got, err := expectedTotals(40)
	if err != nil {
		t.Fatal(err)
	}
	if got.Persons != 40 || got.Contribution != engine.MustMoney("15200") || got.Subsidy != engine.MustMoney("2880") || got.Payable != engine.MustMoney("12320") {
		t.Errorf("totals %+v", got)
	}
	for c, want := range map[engine.Category]engine.CategoryTotal{
		engine.CategoryDestitute:     {Persons: 2, Subsidy: engine.MustMoney("760")},
		engine.CategoryMinimumLiving: {Persons: 4, Subsidy: engine.MustMoney("1360")},
		engine.CategoryMonitored:     {Persons: 4, Subsidy: engine.MustMoney("760")},
	} {
		if got.ByCategory[c] != want {
			t.Errorf("%v: %+v, want %+v", c, got.ByCategory[c], want)
		}
	}
	if personID(7) != "PB0000007" || personOf(1).GetIdentities()[1].GetValidFrom() != "2025-07-01" {
		t.Errorf("persons: %s %v", personID(7), personOf(1))
	}
}

// TestParseSummary reads the figures of the plan command's summary and
// refuses one that lacks any.
func TestParseSummary(t *testing.T) {
	s, err := parseSummary("plan          610300 resident 2026, identities held on 2026-01-01\npersons       10\ncontribution  3800.00\nsubsidy       1440.00\npayable       2360.00\n\nbasis category  persons  subsidy\n")
	if err != nil || s.persons != 10 || s.payable != engine.MustMoney("2360") || s.subsidy != engine.MustMoney("1440") || s.contribution != engine.MustMoney("3800") {
		t.Errorf("%+v %v", s, err)
	}
	if _, err := parseSummary("persons 10\npayable x\n"); err == nil {
		t.Error("a bad amount is read")
	}
	if _, err := parseSummary("persons 10\n"); err == nil {
		t.Error("a summary without amounts is read")
	}
}

// TestProcessCPU reads this process's CPU time.
func TestProcessCPU(t *testing.T) {
	d, err := processCPU(os.Getpid())
	if err != nil || d < 0 {
		t.Errorf("processCPU: %v %v", d, err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("a process that does not exist")
	}
}
