package api

import (
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// crossServer serves st with the 350500 employee policy of the examples
// (a 10-point cut for unregistered cross-region care), QZ-H3 (350500) and
// FZ-H3 (350100), both level 3, and employee E1 of 350500, with admin,
// clearing and institution tokens.
func crossServer(t *testing.T, ts *testServer) *testServer {
	t.Helper()
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	must(t, err)
	var pol pb.Policy
	unmarshalInto(t, raw, &pol)
	r := grpcReplayer{ts}
	must(t, r.putPolicy(&pol))
	must(t, r.putInstitution(&pb.Institution{InstitutionId: "QZ-H3", Name: "QZ-H3", Region: "350500", Level: 3}))
	must(t, r.putInstitution(&pb.Institution{InstitutionId: "FZ-H3", Name: "FZ-H3", Region: "350100", Level: 3}))
	must(t, r.putPerson(&pb.Person{PersonId: "E1", Name: "E1", Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
		Employment: pb.Employment_EMPLOYMENT_EMPLOYED, ContributionYears: 8}))
	return ts
}

func crossRoles() map[string]string {
	return map[string]string{
		adminToken: "admin", clearingToken: "clearing",
		institutionToken("QZ-H3"): "institution:QZ-H3", institutionToken("FZ-H3"): "institution:FZ-H3",
	}
}

func putFiling(ts *testServer, token string, f *pb.CrossRegionFiling) (*pb.CrossRegionFiling, error) {
	ctx, cancel := as(token)
	defer cancel()
	resp, err := ts.registry.PutCrossRegionFiling(ctx, &pb.PutCrossRegionFilingRequest{Filing: f})
	return resp.GetFiling(), err
}

func listFilings(ts *testServer, token, person string) ([]*pb.CrossRegionFiling, error) {
	ctx, cancel := as(token)
	defer cancel()
	resp, err := ts.registry.ListCrossRegionFilings(ctx, &pb.ListCrossRegionFilingsRequest{PersonId: person})
	return resp.GetFilings(), err
}

func filingIDList(fs []*pb.CrossRegionFiling) string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.GetFilingId())
	}
	return strings.Join(ids, ",")
}

// TestCrossRegionFilingRPCs: PutCrossRegionFiling (admin; replaces by id;
// the person's own region or valid_to before valid_from INVALID_ARGUMENT
// naming every bad field; an unknown person NOT_FOUND) and
// ListCrossRegionFilings (every role; unknown person NOT_FOUND), on every
// store. A refused filing stores nothing.
func TestCrossRegionFilingRPCs(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			ts := crossServer(t, startServerOn(t, newStore(t, kind), crossRoles()))
			f := func(id, person, region, from, to string) *pb.CrossRegionFiling {
				return &pb.CrossRegionFiling{FilingId: id, PersonId: person, Region: region, ValidFrom: from, ValidTo: to}
			}
			_, err := putFiling(ts, institutionToken("QZ-H3"), f("F-1", "E1", "350100", "2026-03-01", "2026-06-30"))
			wantCode(t, err, codes.PermissionDenied)
			_, err = putFiling(ts, "", f("F-1", "E1", "350100", "2026-03-01", "2026-06-30"))
			wantCode(t, err, codes.Unauthenticated)
			_, err = putFiling(ts, adminToken, f("F-1", "NOBODY", "350100", "2026-03-01", "2026-06-30"))
			wantCode(t, err, codes.NotFound)
			for _, tc := range []struct {
				name   string
				filing *pb.CrossRegionFiling
				fields []string
			}{
				{"own region", f("F-1", "E1", "350500", "2026-03-01", "2026-06-30"), []string{"filing.region"}},
				{"ends before it starts", f("F-1", "E1", "350100", "2026-06-30", "2026-03-01"), []string{"filing.valid_to"}},
				{"every problem at once", f("", "E1", "350500", "2026-02-30", ""),
					[]string{"filing.filing_id", "filing.region", "filing.valid_from", "filing.valid_to"}},
				{"bad fields win over an unknown person", f("F-1", "NOBODY", "350100", "2026-03-01", "someday"), []string{"filing.valid_to"}},
				{"no filing", nil, []string{"filing"}},
			} {
				_, err := putFiling(ts, adminToken, tc.filing)
				if got := fieldViolations(t, err); !slices.Equal(got, tc.fields) {
					t.Errorf("%s: violations on %v, want %v (%v)", tc.name, got, tc.fields, err)
				}
			}
			if fs, err := listFilings(ts, adminToken, "E1"); err != nil || len(fs) != 0 {
				t.Fatalf("refused filings were stored: %v, %v", fs, err)
			}

			got, err := putFiling(ts, adminToken, f("F-1", "E1", "350100", "2026-03-01", "2026-06-30"))
			must(t, err)
			if got.GetFilingId() != "F-1" || got.GetValidFrom() != "2026-03-01" || got.GetValidTo() != "2026-06-30" || got.GetRegion() != "350100" {
				t.Errorf("PutCrossRegionFiling answered %v", got)
			}
			_, err = putFiling(ts, adminToken, f("F-0", "E1", "350100", "2026-01-01", "2026-01-31"))
			must(t, err)
			for _, token := range []string{adminToken, clearingToken, institutionToken("QZ-H3"), institutionToken("FZ-H3")} {
				fs, err := listFilings(ts, token, "E1")
				must(t, err)
				if filingIDList(fs) != "F-0,F-1" {
					t.Errorf("listed %s, want F-0,F-1", filingIDList(fs))
				}
			}
			_, err = listFilings(ts, adminToken, "NOBODY")
			wantCode(t, err, codes.NotFound)
			_, err = listFilings(ts, "", "E1")
			wantCode(t, err, codes.Unauthenticated)
			_, err = listFilings(ts, adminToken, "")
			if got := fieldViolations(t, err); !slices.Equal(got, []string{"person_id"}) {
				t.Errorf("an empty person_id: %v", got)
			}

			// Replacing F-1 moves it after F-0's start only by its dates.
			_, err = putFiling(ts, adminToken, f("F-1", "E1", "350200", "2025-12-01", "2026-12-31"))
			must(t, err)
			fs, err := listFilings(ts, adminToken, "E1")
			must(t, err)
			if filingIDList(fs) != "F-1,F-0" || fs[0].GetRegion() != "350200" {
				t.Errorf("after replacing F-1: %v", fs)
			}
		})
	}
}

// TestCrossRegionDecidedByServer: the settlement carries the cross_region
// the server decided from its records; a request's cross_region must
// agree (FAILED_PRECONDITION naming what the records say, nothing
// changes); a retry is the same request when it leaves cross_region
// unspecified or gives the decided value, and gets the first answer even
// after the filings changed.
func TestCrossRegionDecidedByServer(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			ts := crossServer(t, startServerOn(t, newStore(t, kind), crossRoles()))
			_, err := putFiling(ts, adminToken, &pb.CrossRegionFiling{FilingId: "F-1", PersonId: "E1", Region: "350100",
				ValidFrom: "2026-03-01", ValidTo: "2026-06-30"})
			must(t, err)
			call := func(commit bool, req *pb.SettleRequest) (*pb.Settlement, error) {
				return grpcReplayer{ts}.settle(req.GetInstitutionId(), req, commit)
			}
			at := func(id, inst, date string, cr pb.CrossRegion) *pb.SettleRequest {
				req := claim(id, inst, "E1", "12000")
				req.SettleDate, req.CrossRegion, req.UsePersonalAccount = date, cr, false
				return req
			}
			unspecified := pb.CrossRegion_CROSS_REGION_UNSPECIFIED

			// What the records say, in PreSettle; registered care pays as
			// local care does.
			local, err := call(false, at("p-1", "QZ-H3", "2026-03-15", unspecified))
			must(t, err)
			registered, err := call(false, at("p-2", "FZ-H3", "2026-03-15", unspecified))
			must(t, err)
			unregistered, err := call(false, at("p-3", "FZ-H3", "2026-07-01", unspecified))
			must(t, err)
			for _, c := range []struct {
				st   *pb.Settlement
				want pb.CrossRegion
			}{{local, pb.CrossRegion_CROSS_REGION_LOCAL}, {registered, pb.CrossRegion_CROSS_REGION_REGISTERED},
				{unregistered, pb.CrossRegion_CROSS_REGION_UNREGISTERED}} {
				if c.st.GetCrossRegion() != c.want {
					t.Errorf("%s: cross_region %v, want %v", c.st.GetRequestId(), c.st.GetCrossRegion(), c.want)
				}
			}
			if local.GetBreakdown().GetBasicFund() != registered.GetBreakdown().GetBasicFund() ||
				unregistered.GetBreakdown().GetBasicFund() == local.GetBreakdown().GetBasicFund() {
				t.Errorf("basic fund local %s, registered %s, unregistered %s: want local = registered ≠ unregistered",
					local.GetBreakdown().GetBasicFund(), registered.GetBreakdown().GetBasicFund(), unregistered.GetBreakdown().GetBasicFund())
			}

			// A declaration the records contradict changes nothing.
			before := accumulatorsJSON(t, ts, "E1")
			for _, tc := range []struct {
				req  *pb.SettleRequest
				says []string
			}{
				{at("s-x1", "FZ-H3", "2026-07-01", pb.CrossRegion_CROSS_REGION_REGISTERED),
					[]string{"records say CROSS_REGION_UNREGISTERED", `no filing of the person for 350100 holds on 2026-07-01`}},
				{at("s-x2", "FZ-H3", "2026-03-15", pb.CrossRegion_CROSS_REGION_UNREGISTERED),
					[]string{"records say CROSS_REGION_REGISTERED", `filing "F-1" for 350100 holds from 2026-03-01 to 2026-06-30`}},
				{at("s-x3", "QZ-H3", "2026-03-15", pb.CrossRegion_CROSS_REGION_REGISTERED),
					[]string{"records say CROSS_REGION_LOCAL", `institution "QZ-H3" is in person "E1"'s insured region 350500`}},
			} {
				_, err := call(true, tc.req)
				wantCode(t, err, codes.FailedPrecondition)
				for _, s := range tc.says {
					if !strings.Contains(status.Convert(err).Message(), s) {
						t.Errorf("%s: %q does not say %q", tc.req.GetRequestId(), status.Convert(err).Message(), s)
					}
				}
			}
			if after := accumulatorsJSON(t, ts, "E1"); after != before {
				t.Errorf("refused declarations changed the accumulators:\n%s\n%s", before, after)
			}

			// Settled as the records say, and recorded so.
			first, err := call(true, at("s-1", "FZ-H3", "2026-07-01", unspecified))
			must(t, err)
			if first.GetCrossRegion() != pb.CrossRegion_CROSS_REGION_UNREGISTERED {
				t.Fatalf("settled as %v", first.GetCrossRegion())
			}
			ctx, cancel := as(adminToken)
			got, err := ts.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: first.GetSettlementId()})
			cancel()
			must(t, err)
			if got.GetSettlement().GetCrossRegion() != pb.CrossRegion_CROSS_REGION_UNREGISTERED {
				t.Errorf("GetSettlement: cross_region %v", got.GetSettlement().GetCrossRegion())
			}
			// A filing now covering that day does not change the answer to
			// a retry: the first result, unchanged.
			_, err = putFiling(ts, adminToken, &pb.CrossRegionFiling{FilingId: "F-2", PersonId: "E1", Region: "350100",
				ValidFrom: "2026-07-01", ValidTo: "2026-07-31"})
			must(t, err)
			for _, cr := range []pb.CrossRegion{unspecified, pb.CrossRegion_CROSS_REGION_UNREGISTERED} {
				again, err := call(true, at("s-1", "FZ-H3", "2026-07-01", cr))
				must(t, err)
				if again.GetSettlementId() != first.GetSettlementId() || again.GetCrossRegion() != pb.CrossRegion_CROSS_REGION_UNREGISTERED ||
					again.GetBreakdown().GetBasicFund() != first.GetBreakdown().GetBasicFund() {
					t.Errorf("retry declaring %v: %v, want the first answer %v", cr, again, first)
				}
			}
			for _, cr := range []pb.CrossRegion{pb.CrossRegion_CROSS_REGION_REGISTERED, pb.CrossRegion_CROSS_REGION_LOCAL} {
				_, err := call(true, at("s-1", "FZ-H3", "2026-07-01", cr))
				wantCode(t, err, codes.AlreadyExists)
			}
			// A new request of that day is registered now.
			second, err := call(true, at("s-2", "FZ-H3", "2026-07-01", pb.CrossRegion_CROSS_REGION_REGISTERED))
			must(t, err)
			if second.GetCrossRegion() != pb.CrossRegion_CROSS_REGION_REGISTERED {
				t.Errorf("after filing F-2: %v", second.GetCrossRegion())
			}
		})
	}
}

// TestClaimTotalBoundedThroughAPI: lines of at most 10^12 each whose sum
// passes 10^12 are INVALID_ARGUMENT naming items.
func TestClaimTotalBoundedThroughAPI(t *testing.T) {
	ts := crossServer(t, startServerOn(t, memstore.New(), crossRoles()))
	req := claim("t-1", "QZ-H3", "E1", "600000000000.00")
	req.Items = append(req.Items, &pb.LineItem{Code: "A-BED", Name: "bed", Quantity: "1", UnitPrice: "400000000000.01", Amount: "400000000000.01"})
	for _, commit := range []bool{false, true} {
		_, err := grpcReplayer{ts}.settle("QZ-H3", req, commit)
		if got := fieldViolations(t, err); !slices.Equal(got, []string{"items"}) {
			t.Errorf("commit %t: violations %v", commit, got)
		}
		if msg := status.Convert(err).Message(); !strings.Contains(msg, "add up to 1000000000000.01") {
			t.Errorf("message %q", msg)
		}
	}
	req.Items[1].UnitPrice, req.Items[1].Amount = "400000000000", "400000000000.00"
	st, err := grpcReplayer{ts}.settle("QZ-H3", req, false)
	must(t, err)
	if st.GetBreakdown().GetTotal() != "1000000000000.00" {
		t.Errorf("total %s", st.GetBreakdown().GetTotal())
	}
}
