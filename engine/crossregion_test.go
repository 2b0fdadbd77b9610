package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

func day(y int, m time.Month, d int) engine.Date { return engine.Date{Year: y, Month: m, Day: d} }

// crossInput is a 10,000.00 inpatient claim of an employee of R1 under
// fuzzPolicy (a 10-point cut for unregistered care) at a level-2
// institution of region instRegion on 2024-03-01.
func crossInput(instRegion string, filings ...engine.Filing) engine.Input {
	a := engine.MustMoney("10000.00")
	return engine.Input{
		Policy: fuzzPolicy(),
		Person: engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed,
			ContributionYears: 12},
		Institution: engine.Institution{ID: "H1", Region: instRegion, Level: 2},
		Claim: engine.Claim{RequestID: "R1", InstitutionID: "H1", PersonID: "P1", VisitType: engine.VisitInpatient,
			SettleDate: day(2024, time.March, 1),
			Items:      []engine.LineItem{{Code: "A1", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("10000"), Amount: a}}},
		Accumulators: engine.NewAccumulators("P1", 2024),
		Filings:      filings,
	}
}

// TestCrossRegionDecidedByRecords: the server decides where care is given
// from the institution's and the person's regions and the person's
// filings; the claim's cross_region only has to agree. Under fuzzPolicy
// (700 deductible; 50% to 1,000, 85% to 50,000; 10-point cut unregistered)
// a 10,000.00 stay pays 150 + 7,650 = 7,800.00 with no cut and
// 120 + 6,750 = 6,870.00 with it.
func TestCrossRegionDecidedByRecords(t *testing.T) {
	filing := func(id, person, region string, from, to engine.Date) engine.Filing {
		return engine.Filing{ID: id, PersonID: person, Region: region, ValidFrom: from, ValidTo: to}
	}
	march := filing("F-MAR", "P1", "R2", day(2024, time.March, 1), day(2024, time.March, 31))
	for _, tc := range []struct {
		name     string
		in       engine.Input
		want     engine.CrossRegion
		basic    string
		filingID string
	}{
		{"home institution", crossInput("R1"), engine.CrossRegionLocal, "7800.00", ""},
		{"home institution, a filing for elsewhere too", crossInput("R1", march), engine.CrossRegionLocal, "7800.00", ""},
		{"elsewhere without a filing", crossInput("R2"), engine.CrossRegionUnregistered, "6870.00", ""},
		{"filed, first day", crossInput("R2", march), engine.CrossRegionRegistered, "7800.00", "F-MAR"},
		{"filed, last day", func() engine.Input {
			in := crossInput("R2", march)
			in.Claim.SettleDate = day(2024, time.March, 31)
			return in
		}(), engine.CrossRegionRegistered, "7800.00", "F-MAR"},
		{"filing expired the day before", func() engine.Input {
			in := crossInput("R2", filing("F-FEB", "P1", "R2", day(2024, time.February, 1), day(2024, time.February, 29)))
			return in
		}(), engine.CrossRegionUnregistered, "6870.00", ""},
		{"filing starting the day after", crossInput("R2", filing("F-LATE", "P1", "R2", day(2024, time.March, 2), day(2024, time.December, 31))),
			engine.CrossRegionUnregistered, "6870.00", ""},
		{"filing for another region", crossInput("R3", march), engine.CrossRegionUnregistered, "6870.00", ""},
		{"a region code only by prefix", crossInput("R20", march), engine.CrossRegionUnregistered, "6870.00", ""},
		{"another person's filing", crossInput("R2", filing("F-P2", "P2", "R2", day(2024, time.January, 1), day(2024, time.December, 31))),
			engine.CrossRegionUnregistered, "6870.00", ""},
		{"overlapping filings, the first that holds is named", crossInput("R2",
			filing("F-OLD", "P1", "R2", day(2023, time.January, 1), day(2023, time.December, 31)), march,
			filing("F-YEAR", "P1", "R2", day(2024, time.January, 1), day(2024, time.December, 31))),
			engine.CrossRegionRegistered, "7800.00", "F-MAR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := engine.DecideCrossRegion(tc.in.Person, tc.in.Institution, tc.in.Filings, tc.in.Claim.SettleDate)
			if d.State != tc.want || d.Filing != tc.filingID {
				t.Fatalf("DecideCrossRegion = %v (filing %q), want %v (filing %q)", d.State, d.Filing, tc.want, tc.filingID)
			}
			for _, declared := range []engine.CrossRegion{engine.CrossRegionUnspecified, tc.want} {
				in := tc.in
				in.Claim.CrossRegion = declared
				res, err := engine.Settle(in)
				if err != nil {
					t.Fatalf("declared %v: %v", declared, err)
				}
				if res.CrossRegion != tc.want || res.Breakdown.BasicFund.String() != tc.basic {
					t.Errorf("declared %v: cross_region %v, basic fund %s; want %v, %s", declared, res.CrossRegion,
						res.Breakdown.BasicFund.String(), tc.want, tc.basic)
				}
			}
			// Every other declaration is refused, naming what the records say.
			for _, declared := range []engine.CrossRegion{engine.CrossRegionLocal, engine.CrossRegionRegistered, engine.CrossRegionUnregistered} {
				if declared == tc.want {
					continue
				}
				in := tc.in
				in.Claim.CrossRegion = declared
				_, err := engine.Settle(in)
				if !errors.Is(err, engine.ErrCrossRegion) {
					t.Fatalf("declared %v: %v, want ErrCrossRegion", declared, err)
				}
				var mismatch *engine.CrossRegionMismatch
				if !errors.As(err, &mismatch) || mismatch.Declared != declared || mismatch.Decided != tc.want {
					t.Errorf("declared %v: %#v, want a CrossRegionMismatch of %v and %v", declared, err, declared, tc.want)
				}
				if strings.Contains(err.Error(), "CROSS_REGION_") {
					t.Errorf("declared %v: %q names a proto enum value", declared, err)
				}
				for _, want := range []string{"the records say ", `institution "H1"`} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("declared %v: %q does not say %q", declared, err, want)
					}
				}
				if tc.filingID != "" && !strings.Contains(err.Error(), `filing "`+tc.filingID+`"`) {
					t.Errorf("declared %v: %q does not name filing %s", declared, err, tc.filingID)
				}
			}
		})
	}
}

// TestValidateFiling: a filing names its fields, is for a region other
// than the person's insured region, and does not end before it starts
// (one day is fine).
func TestValidateFiling(t *testing.T) {
	person := engine.Person{ID: "P1", Region: "R1"}
	ok := engine.Filing{ID: "F1", PersonID: "P1", Region: "R2", ValidFrom: day(2026, time.March, 1), ValidTo: day(2026, time.March, 1)}
	if err := engine.ValidateFiling(ok, person); err != nil {
		t.Fatalf("a one-day filing: %v", err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(f *engine.Filing)
		fields []string
	}{
		{"own region", func(f *engine.Filing) { f.Region = "R1" }, []string{"filing.region"}},
		{"ends before it starts", func(f *engine.Filing) { f.ValidTo = day(2026, time.February, 28) }, []string{"filing.valid_to"}},
		{"nothing", func(f *engine.Filing) { *f = engine.Filing{} },
			[]string{"filing.filing_id", "filing.person_id", "filing.region", "filing.valid_from", "filing.valid_to"}},
		{"a control character in the id", func(f *engine.Filing) { f.ID = "F\x001" }, []string{"filing.filing_id"}},
	} {
		f := ok
		tc.edit(&f)
		err := engine.ValidateFiling(f, person)
		var ve *engine.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: %v, want a *ValidationError", tc.name, err)
		}
		var got []string
		for _, v := range ve.Violations {
			got = append(got, v.Field)
		}
		if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: violations on %v, want %v (%v)", tc.name, got, tc.fields, err)
		}
	}
}

// TestSameRequestWithDecidedCrossRegion: a store records the fingerprint
// of the claim as settled, with the cross_region decided. A retry that
// leaves cross_region unspecified, or gives the decided value, is the same
// request; one that gives another value is not. A record made before the
// server decided (unspecified digested as LOCAL) is matched the same way.
func TestSameRequestWithDecidedCrossRegion(t *testing.T) {
	c := crossInput("R2").Claim
	recorded := c.Decided(engine.CrossRegionUnregistered)
	if recorded.CrossRegion != engine.CrossRegionUnregistered {
		t.Fatalf("Decided left cross_region %v", recorded.CrossRegion)
	}
	if c.Decided(engine.CrossRegionUnspecified).CrossRegion != engine.CrossRegionUnspecified {
		t.Fatalf("an unspecified decision changed the claim")
	}
	fp := recorded.Fingerprint()
	for declared, same := range map[engine.CrossRegion]bool{
		engine.CrossRegionUnspecified:  true,
		engine.CrossRegionUnregistered: true,
		engine.CrossRegionRegistered:   false,
		engine.CrossRegionLocal:        false,
	} {
		retry := c
		retry.CrossRegion = declared
		if got := retry.SameRequest(fp); got != same {
			t.Errorf("a retry declaring %v: SameRequest = %v, want %v", declared, got, same)
		}
	}
	other := c
	other.Items = append([]engine.LineItem(nil), c.Items...)
	other.Items[0].Name = "another name"
	if other.SameRequest(fp) {
		t.Errorf("a claim with another item name is the same request")
	}
	// Before the server decided, the claim was recorded as sent, unspecified
	// digested as LOCAL.
	old := c.Fingerprint()
	if c.CrossRegion != engine.CrossRegionUnspecified || !c.SameRequest(old) {
		t.Errorf("an unspecified retry of an old record is not the same request")
	}
	local := c
	local.CrossRegion = engine.CrossRegionLocal
	if !local.SameRequest(old) || local.Fingerprint() != old {
		t.Errorf("a LOCAL retry of an old unspecified record is not the same request")
	}
}
