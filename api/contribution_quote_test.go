package api

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestQuoteSeed003 quotes seed 003's cases on both stores: ordinary pays
// all; DESTITUTE pays 0; MINIMUM_LIVING pays 40; MONITORED pays 190; a
// person with several categories gets the largest subsidy, never two; an
// identity counts on the dates it holds (both ends included), the
// undated category on every date.
func TestQuoteSeed003(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := contributionServer(t, kind)
			c.resident("Q-ORD", contributionRegion, catNone)
			c.resident("Q-ORD2", contributionRegion, catOrdinary)
			c.resident("Q-DES", contributionRegion, catDestitute)
			c.resident("Q-MIN", contributionRegion, catMinimum)
			c.resident("Q-MON", contributionRegion, catMonitored)
			c.resident("Q-POV", contributionRegion, catPoverty) // no subsidy for it in seed 003
			// 低保 and 监测 at once: the larger, 340, never 340 + 190.
			c.resident("Q-TWO", contributionRegion, catNone,
				identity(catMonitored, "2025-06-01", "2026-12-31"), identity(catMinimum, "2026-01-01", "2026-12-31"))
			// 监测 undated, 特困 from May to August.
			c.resident("Q-MAY", contributionRegion, catMonitored, identity(catDestitute, "2026-05-01", "2026-08-31"))
			// 低保 that ended before the year.
			c.resident("Q-END", contributionRegion, catNone, identity(catMinimum, "2025-01-01", "2025-12-31"))
			cases := []struct {
				person string
				asOf   string
				want   string
			}{
				{"Q-ORD", "", "380.00 0.00 380.00 UNSPECIFIED 2026.1"},
				{"Q-ORD2", "", "380.00 0.00 380.00 UNSPECIFIED 2026.1"},
				{"Q-DES", "", "380.00 380.00 0.00 DESTITUTE 2026.1"},
				{"Q-MIN", "", "380.00 340.00 40.00 MINIMUM_LIVING 2026.1"},
				{"Q-MON", "", "380.00 190.00 190.00 MONITORED 2026.1"},
				{"Q-POV", "", "380.00 0.00 380.00 UNSPECIFIED 2026.1"},
				{"Q-TWO", "", "380.00 340.00 40.00 MINIMUM_LIVING 2026.1"},
				{"Q-TWO", "2025-12-31", "380.00 190.00 190.00 MONITORED 2026.1"},
				{"Q-TWO", "2025-05-31", "380.00 0.00 380.00 UNSPECIFIED 2026.1"},
				{"Q-MAY", "", "380.00 190.00 190.00 MONITORED 2026.1"},
				{"Q-MAY", "2026-04-30", "380.00 190.00 190.00 MONITORED 2026.1"},
				{"Q-MAY", "2026-05-01", "380.00 380.00 0.00 DESTITUTE 2026.1"},
				{"Q-MAY", "2026-08-31", "380.00 380.00 0.00 DESTITUTE 2026.1"},
				{"Q-MAY", "2026-09-01", "380.00 190.00 190.00 MONITORED 2026.1"},
				{"Q-MAY", "2030-01-01", "380.00 190.00 190.00 MONITORED 2026.1"},
				{"Q-END", "", "380.00 0.00 380.00 UNSPECIFIED 2026.1"},
				{"Q-END", "2025-12-31", "380.00 340.00 40.00 MINIMUM_LIVING 2026.1"},
			}
			for _, tc := range cases {
				for _, token := range []string{adminToken, clearingToken} {
					q, err := c.quote(token, tc.person, 2026, tc.asOf)
					if err != nil {
						t.Errorf("%s as of %q: %v", tc.person, tc.asOf, err)
						continue
					}
					if got := quoteText(q); got != tc.want {
						t.Errorf("%s as of %q: %s, want %s", tc.person, tc.asOf, got, tc.want)
					}
					if q.GetPersonId() != tc.person || q.GetYear() != 2026 {
						t.Errorf("%s as of %q: answered for %s, %d", tc.person, tc.asOf, q.GetPersonId(), q.GetYear())
					}
				}
			}
		})
	}
}

// TestQuoteTieAndCap: on a tie the subsidy listed first is the basis
// (whatever the enum order); a fixed subsidy equal to the contribution
// pays all of it; a contribution of 0.00 with a full subsidy pays 0.00.
func TestQuoteTieAndCap(t *testing.T) {
	c := contributionServer(t, memKind)
	c.putPolicy(contributionPolicy("TIE-A", &pb.Contribution{Amount: "100", Subsidies: []*pb.Subsidy{
		{Category: catPoverty, Amount: "60"}, {Category: catMonitored, Amount: "60"}, {Category: catMinimum, Amount: "100"}}}))
	c.putPolicy(contributionPolicy("TIE-B", &pb.Contribution{Amount: "100", Subsidies: []*pb.Subsidy{
		{Category: catMonitored, Amount: "60"}, {Category: catPoverty, Amount: "60"}, {Category: catDestitute, Full: true}}}))
	c.putPolicy(contributionPolicy("FREE", &pb.Contribution{Amount: "0", Subsidies: []*pb.Subsidy{{Category: catDestitute, Full: true}}}))
	both := []*pb.Identity{identity(catMonitored, "2026-01-01", "2026-12-31"), identity(catPoverty, "2026-01-01", "2026-12-31")}
	c.resident("T-A", "TIE-A", catNone, both...)
	c.resident("T-B", "TIE-B", catNone, both...)
	// Full (100) ties with a fixed 100 listed later: the full one is first.
	c.resident("T-FULL", "TIE-B", catMinimum, identity(catDestitute, "2026-01-01", "2026-01-01"))
	c.resident("T-EQ", "TIE-A", catMinimum)
	c.resident("T-FREE", "FREE", catDestitute)
	c.resident("T-FREE0", "FREE", catNone)
	for person, want := range map[string]string{
		"T-A":     "100.00 60.00 40.00 POVERTY_ALLEVIATED 2026.1",
		"T-B":     "100.00 60.00 40.00 MONITORED 2026.1",
		"T-FULL":  "100.00 100.00 0.00 DESTITUTE 2026.1",
		"T-EQ":    "100.00 100.00 0.00 MINIMUM_LIVING 2026.1",
		"T-FREE":  "0.00 0.00 0.00 DESTITUTE 2026.1",
		"T-FREE0": "0.00 0.00 0.00 UNSPECIFIED 2026.1",
	} {
		q, err := c.quote(clearingToken, person, 2026, "")
		if err != nil {
			t.Errorf("%s: %v", person, err)
			continue
		}
		if got := quoteText(q); got != want {
			t.Errorf("%s: %s, want %s", person, got, want)
		}
	}
}

// TestQuoteErrors: every bad field is named in one BadRequest; an unknown
// person is NOT_FOUND; no policy in force on January 1 of the year, or
// one without a contribution section, is FAILED_PRECONDITION saying what
// to do; an institution is PERMISSION_DENIED. Checked on both stores.
func TestQuoteErrors(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := contributionServer(t, kind)
			c.resident("E-R", contributionRegion, catMinimum)
			must(t, grpcReplayer{c.testServer}.putPerson(&pb.Person{PersonId: "E-EMP", Name: "x", Region: contributionRegion, Scheme: employee,
				Employment: pb.Employment_EMPLOYMENT_EMPLOYED, AccountBalance: "0"}))
			// A policy that starts on February 1 is not in force on January 1.
			late := contributionPolicy("LATE", seed003Section())
			late.EffectiveFrom = "2026-02-01"
			c.putPolicy(late)
			c.resident("E-LATE", "LATE", catMinimum)

			for _, tc := range []struct {
				person string
				year   int32
				asOf   string
				want   string
			}{
				{"", 0, "2026-13-01", "as_of person_id year"},
				{"E-R", 0, "", "year"},
				{"E-R", 1899, "", "year"},
				{"E-R", 10000, "2026-01-01", "year"},
				{"E-R", -2026, "", "year"},
				{"E-R", 2026, "2026-02-30", "as_of"},
				{"E-R", 2026, "20260101", "as_of"},
				{"E-R", 2026, "0000-01-01", "as_of"},
				{strings.Repeat("x", 65), 2026, " 2026-01-01", "as_of person_id"},
			} {
				_, err := c.quote(clearingToken, tc.person, tc.year, tc.asOf)
				if got := strings.Join(fieldViolations(t, err), " "); got != tc.want {
					t.Errorf("%q %d %q: violations %s, want %s", tc.person, tc.year, tc.asOf, got, tc.want)
				}
			}
			// The year's own message.
			_, err := c.quote(clearingToken, "E-R", 0, "")
			if got, want := status.Convert(err).Message(), "invalid argument: year: is required"; got != want {
				t.Errorf("year 0: %q, want %q", got, want)
			}

			for _, tc := range []struct {
				person string
				year   int32
				code   codes.Code
				msg    string
			}{
				{"NOBODY", 2026, codes.NotFound, `person "NOBODY": not found`},
				{"E-R", 2027, codes.FailedPrecondition, "the contribution for 2027 is set by the policy in force on 2027-01-01: " +
					"no policy in force: no resident policy of region 340600 covers 2027-01-01; load one with PolicyService.PutPolicy"},
				{"E-LATE", 2026, codes.FailedPrecondition, "the contribution for 2026 is set by the policy in force on 2026-01-01: " +
					"no policy in force: no resident policy of region LATE covers 2026-01-01; load one with PolicyService.PutPolicy"},
				{"E-EMP", 2026, codes.FailedPrecondition, "policy 2026.1 of region 340600, SCHEME_EMPLOYEE, in force on 2026-01-01, " +
					"has no contribution section: add one (amount and subsidies) to it with PolicyService.PutPolicy"},
			} {
				_, err := c.quote(adminToken, tc.person, tc.year, "")
				st := status.Convert(err)
				msg := st.Message()
				if tc.code == codes.NotFound {
					// The store's own words follow (pgstore: the driver's).
					msg = msg[:min(len(msg), len(tc.msg))]
				}
				if st.Code() != tc.code || msg != tc.msg {
					t.Errorf("%s for %d: %v %q, want %v %q", tc.person, tc.year, st.Code(), st.Message(), tc.code, tc.msg)
				}
			}
			// An institution is refused before anything is read.
			_, err = c.quote(institutionToken("H1"), "NOBODY", 0, "")
			if st := status.Convert(err); st.Code() != codes.PermissionDenied || st.Message() != "this call needs the clearing or admin role" {
				t.Errorf("as an institution: %v", err)
			}
			_, err = c.quote("", "E-R", 2026, "")
			wantCode(t, err, codes.Unauthenticated)
		})
	}
}

// TestQuoteChangesNothing: quoting (well or badly) leaves the person and
// the policy as they were.
func TestQuoteChangesNothing(t *testing.T) {
	c := contributionServer(t, memKind)
	c.resident("N-1", contributionRegion, catMonitored, identity(catDestitute, "2026-05-01", "2026-08-31"))
	ctx, cancel := as(adminToken)
	defer cancel()
	snapshot := func() string {
		p, err := c.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "N-1"})
		must(t, err)
		pol, err := c.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: contributionRegion, Scheme: resident})
		must(t, err)
		return fmt.Sprint(p.GetPerson(), pol.GetPolicy().GetContribution())
	}
	before := snapshot()
	for _, year := range []int32{2026, 2027, 0} {
		_, _ = c.quote(clearingToken, "N-1", year, "2026-06-01")
	}
	if after := snapshot(); after != before {
		t.Errorf("a quote changed the records:\n%s\n%s", before, after)
	}
}
