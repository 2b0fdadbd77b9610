package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// seedPlanPersons registers seed 003's cases in contributionRegion, in an
// order that is not the id order, with persons of another region and of
// the employee scheme that no plan of the region's residents lists.
func seedPlanPersons(c *contributionTS) {
	c.resident("P-9", contributionRegion, catMonitored)
	c.resident("P-10", contributionRegion, catDestitute)
	c.resident("P-1", contributionRegion, catNone)
	c.resident("P-2", contributionRegion, catMinimum, identity(catMonitored, "2026-01-01", "2026-12-31"))
	c.resident("P-20", contributionRegion, catNone, identity(catMinimum, "2025-01-01", "2025-12-31"))
	c.resident("P-3", contributionRegion, catMonitored, identity(catDestitute, "2026-05-01", "2026-08-31"))
	c.resident("P-4", contributionRegion, catPoverty)
	c.resident("P-5", contributionRegion, catMinimum)
	c.resident("X-OTHER", "340700", catDestitute)
	must(c.t, grpcReplayer{c.testServer}.putPerson(&pb.Person{PersonId: "P-EMP", Name: "x", Region: contributionRegion, Scheme: employee,
		Employment: pb.Employment_EMPLOYMENT_EMPLOYED, AccountBalance: "0"}))
}

// TestExportPlan: rows by person id (bytes: P-10 before P-2), one per
// resident of the region, then the totals with the subsidised categories
// in enum order; as_of picks the identities; on both stores, for admin
// and clearing.
func TestExportPlan(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := contributionServer(t, kind)
			seedPlanPersons(c)
			cases := []struct {
				asOf   string
				rows   []string
				totals string
			}{
				{"", []string{
					"P-1 380.00 0.00 380.00 UNSPECIFIED",
					"P-10 380.00 380.00 0.00 DESTITUTE",
					"P-2 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-20 380.00 0.00 380.00 UNSPECIFIED",
					"P-3 380.00 190.00 190.00 MONITORED",
					"P-4 380.00 0.00 380.00 UNSPECIFIED",
					"P-5 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-9 380.00 190.00 190.00 MONITORED",
				}, "8 3040.00 1440.00 1600.00 [DESTITUTE 1 380.00, MINIMUM_LIVING 2 680.00, MONITORED 2 380.00]"},
				{"2026-06-15", []string{
					"P-1 380.00 0.00 380.00 UNSPECIFIED",
					"P-10 380.00 380.00 0.00 DESTITUTE",
					"P-2 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-20 380.00 0.00 380.00 UNSPECIFIED",
					"P-3 380.00 380.00 0.00 DESTITUTE",
					"P-4 380.00 0.00 380.00 UNSPECIFIED",
					"P-5 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-9 380.00 190.00 190.00 MONITORED",
				}, "8 3040.00 1630.00 1410.00 [DESTITUTE 2 760.00, MINIMUM_LIVING 2 680.00, MONITORED 1 190.00]"},
				{"2025-12-31", []string{
					"P-1 380.00 0.00 380.00 UNSPECIFIED",
					"P-10 380.00 380.00 0.00 DESTITUTE",
					"P-2 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-20 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-3 380.00 190.00 190.00 MONITORED",
					"P-4 380.00 0.00 380.00 UNSPECIFIED",
					"P-5 380.00 340.00 40.00 MINIMUM_LIVING",
					"P-9 380.00 190.00 190.00 MONITORED",
				}, "8 3040.00 1780.00 1260.00 [DESTITUTE 1 380.00, MINIMUM_LIVING 3 1020.00, MONITORED 2 380.00]"},
			}
			for _, tc := range cases {
				for _, token := range []string{adminToken, clearingToken} {
					got, err := c.plan(token, &pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2026, AsOf: tc.asOf})
					if err != nil {
						t.Fatalf("as of %q: %v", tc.asOf, err)
					}
					var rows []string
					for _, r := range got.rows {
						rows = append(rows, rowText(r))
					}
					if strings.Join(rows, "\n") != strings.Join(tc.rows, "\n") {
						t.Errorf("as of %q: rows\n%s\nwant\n%s", tc.asOf, strings.Join(rows, "\n"), strings.Join(tc.rows, "\n"))
					}
					if s := totalsText(got.totals); s != tc.totals {
						t.Errorf("as of %q: totals %s, want %s", tc.asOf, s, tc.totals)
					}
				}
			}
			// Each row agrees with Quote.
			got, err := c.plan(clearingToken, &pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2026})
			must(t, err)
			for _, r := range got.rows {
				q, err := c.quote(clearingToken, r.GetPersonId(), 2026, "")
				must(t, err)
				if a, b := quoteText(q), rowText(r); !strings.HasPrefix(b, r.GetPersonId()+" "+strings.TrimSuffix(a, " 2026.1")) {
					t.Errorf("Quote %s and the plan's row %s disagree", a, b)
				}
			}
		})
	}
}

// TestExportPlanEmpty: a region with a policy but no residents has a plan
// of the totals alone, all zero, with no category.
func TestExportPlanEmpty(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := contributionServer(t, kind)
			c.putPolicy(contributionPolicy("340700", seed003Section()))
			got, err := c.plan(clearingToken, &pb.ExportPlanRequest{Region: "340700", Scheme: resident, Year: 2026})
			must(t, err)
			if len(got.rows) != 0 || totalsText(got.totals) != "0 0.00 0.00 0.00 []" {
				t.Errorf("rows %v, totals %s", got.rows, totalsText(got.totals))
			}
		})
	}
}

// TestExportPlanErrors: every bad field is named in one BadRequest; a
// missing policy or section is FAILED_PRECONDITION before any row; an
// institution is PERMISSION_DENIED. Checked on both stores.
func TestExportPlanErrors(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := contributionServer(t, kind)
			seedPlanPersons(c)
			for _, tc := range []struct {
				req  *pb.ExportPlanRequest
				want string
			}{
				{&pb.ExportPlanRequest{}, "region scheme year"},
				{&pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident}, "year"},
				{&pb.ExportPlanRequest{Region: contributionRegion, Year: 2026}, "scheme"},
				{&pb.ExportPlanRequest{Region: contributionRegion, Scheme: 7, Year: 2026}, "scheme"},
				{&pb.ExportPlanRequest{Scheme: resident, Year: 2026, AsOf: "2026-1-1"}, "as_of region"},
				{&pb.ExportPlanRequest{Region: "bad\x00region", Scheme: resident, Year: 1, AsOf: "x"}, "as_of region year"},
			} {
				got, err := c.plan(clearingToken, tc.req)
				if v := strings.Join(fieldViolations(t, err), " "); v != tc.want {
					t.Errorf("%v: violations %s, want %s", tc.req, v, tc.want)
				}
				if len(got.rows) != 0 {
					t.Errorf("%v: %d rows before the error", tc.req, len(got.rows))
				}
			}
			for _, tc := range []struct {
				req *pb.ExportPlanRequest
				msg string
			}{
				{&pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2025}, "the contribution for 2025 is set by the policy in force on 2025-01-01: " +
					"no policy in force: no resident policy of region 340600 covers 2025-01-01; load one with PolicyService.PutPolicy"},
				{&pb.ExportPlanRequest{Region: "NOWHERE", Scheme: resident, Year: 2026}, "the contribution for 2026 is set by the policy in force on 2026-01-01: " +
					"no policy in force: no resident policy of region NOWHERE covers 2026-01-01; load one with PolicyService.PutPolicy"},
				{&pb.ExportPlanRequest{Region: contributionRegion, Scheme: employee, Year: 2026}, "policy 2026.1 of region 340600, SCHEME_EMPLOYEE, " +
					"in force on 2026-01-01, has no contribution section: add one (amount and subsidies) to it with PolicyService.PutPolicy"},
			} {
				got, err := c.plan(adminToken, tc.req)
				if st := status.Convert(err); st.Code() != codes.FailedPrecondition || st.Message() != tc.msg {
					t.Errorf("%v: %v %q, want FAILED_PRECONDITION %q", tc.req, st.Code(), st.Message(), tc.msg)
				}
				if len(got.rows) != 0 {
					t.Errorf("%v: %d rows before the error", tc.req, len(got.rows))
				}
			}
			got, err := c.plan(institutionToken("H1"), &pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2026})
			if st := status.Convert(err); st.Code() != codes.PermissionDenied || len(got.rows) != 0 {
				t.Errorf("as an institution: %v, %d rows", err, len(got.rows))
			}
		})
	}
}

// TestExportPlanCancel: a client that stops reading and cancels ends the
// stream with CANCELLED (a plan of 50,000 rows is more than the stream's
// flow-control window holds); the server is then free for the next plan.
func TestExportPlanCancel(t *testing.T) {
	c := contributionServer(t, memKind)
	const n = 50_000
	persons := make([]engine.Person, n)
	for i := range persons {
		persons[i] = engine.Person{ID: fmt.Sprintf("C-%06d", i), Name: "x", Region: contributionRegion, Scheme: engine.SchemeResident,
			Category: engine.CategoryMonitored}
	}
	ctx0, cancel0 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel0()
	must(t, c.store.PutPersons(ctx0, persons))
	ctx, cancel := as(clearingToken)
	stream, err := c.contribution.ExportPlan(ctx, &pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2026})
	must(t, err)
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			t.Fatal("the stream ended normally after the client cancelled")
		}
		if err != nil {
			wantCode(t, err, codes.Canceled)
			break
		}
	}
	got, err := c.plan(clearingToken, &pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2026})
	must(t, err)
	if len(got.rows) != n || totalsText(got.totals) != "50000 19000000.00 9500000.00 9500000.00 [MONITORED 50000 9500000.00]" {
		t.Errorf("%d rows after a cancelled plan, totals %s", len(got.rows), totalsText(got.totals))
	}
}
