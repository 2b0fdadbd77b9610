package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// The contribution tests run on both stores, through a real gRPC server,
// with seed 003's figures (Huaibei 2024, here under a 2026 policy):
// contribution 380; DESTITUTE full; MINIMUM_LIVING 340, paying 40;
// MONITORED 190, paying 190.

// contributionRegion is the region of the contribution fixture's
// policies (resident with seed 003's section, employee without one).
const contributionRegion = "340600"

// Shorter names of the categories the tests use (resident and employee
// are clearing_run_test.go's).
const (
	catNone      = pb.PersonCategory_PERSON_CATEGORY_UNSPECIFIED
	catOrdinary  = pb.PersonCategory_PERSON_CATEGORY_ORDINARY
	catDestitute = pb.PersonCategory_PERSON_CATEGORY_DESTITUTE
	catMinimum   = pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING
	catMonitored = pb.PersonCategory_PERSON_CATEGORY_MONITORED
	catPoverty   = pb.PersonCategory_PERSON_CATEGORY_POVERTY_ALLEVIATED
)

// seed003Section is seed 003's contribution section.
func seed003Section() *pb.Contribution {
	return &pb.Contribution{Amount: "380", Subsidies: []*pb.Subsidy{
		{Category: catDestitute, Full: true},
		{Category: catMinimum, Amount: "340"},
		{Category: catMonitored, Amount: "190"},
	}}
}

// contributionPolicy is clearingPolicy's 2026 resident policy of region
// with contribution section c (nil: none).
func contributionPolicy(region string, c *pb.Contribution) *pb.Policy {
	p := clearingPolicy(region, resident, false)
	p.Contribution = c
	return p
}

// contributionTS is a test server with a ContributionService client.
type contributionTS struct {
	*testServer
	t            *testing.T
	contribution pb.ContributionServiceClient
}

// contributionServer starts a server on a fresh store of kind with the
// tokens of admin, clearing and institution H1, and contributionRegion's
// resident policy (seed 003's section) and employee policy (none).
func contributionServer(t *testing.T, kind storeKind) *contributionTS {
	t.Helper()
	return contributionServerOn(t, newStore(t, kind))
}

// contributionServerOn is contributionServer on a given store.
func contributionServerOn(t *testing.T, st store.Store) *contributionTS {
	t.Helper()
	ts := startServerOn(t, st, map[string]string{adminToken: "admin", clearingToken: "clearing", institutionToken("H1"): "institution:H1"})
	c := &contributionTS{testServer: ts, t: t, contribution: pb.NewContributionServiceClient(ts.conn)}
	c.putPolicy(contributionPolicy(contributionRegion, seed003Section()))
	c.putPolicy(clearingPolicy(contributionRegion, pb.Scheme_SCHEME_EMPLOYEE, false))
	return c
}

func (c *contributionTS) putPolicy(p *pb.Policy) {
	c.t.Helper()
	must(c.t, grpcReplayer{c.testServer}.putPolicy(p))
}

// resident registers a resident of region with an undated category and
// dated identities.
func (c *contributionTS) resident(id, region string, category pb.PersonCategory, ids ...*pb.Identity) {
	c.t.Helper()
	must(c.t, grpcReplayer{c.testServer}.putPerson(&pb.Person{PersonId: id, Name: id, Region: region, Scheme: resident,
		Category: category, Identities: ids, AccountBalance: "0"}))
}

// identity is a dated identity.
func identity(category pb.PersonCategory, from, to string) *pb.Identity {
	return &pb.Identity{Category: category, ValidFrom: from, ValidTo: to}
}

// quote calls Quote as the caller of token.
func (c *contributionTS) quote(token, person string, year int32, asOf string) (*pb.QuoteResponse, error) {
	ctx, cancel := as(token)
	defer cancel()
	return c.contribution.Quote(ctx, &pb.QuoteRequest{PersonId: person, Year: year, AsOf: asOf})
}

// plan calls ExportPlan as the caller of token and reads it to the end.
func (c *contributionTS) plan(token string, req *pb.ExportPlanRequest) (planResult, error) {
	ctx, cancel := as(token)
	defer cancel()
	return readPlan(ctx, c.contribution, req)
}

// planResult is what an ExportPlan stream sent.
type planResult struct {
	rows   []*pb.PlanRow
	totals *pb.PlanTotals
}

// readPlan reads an ExportPlan stream to its end: rows, then exactly one
// totals message, last. The rows read before an error are returned with it.
func readPlan(ctx context.Context, cl pb.ContributionServiceClient, req *pb.ExportPlanRequest) (planResult, error) {
	var r planResult
	stream, err := cl.ExportPlan(ctx, req)
	if err != nil {
		return r, err
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if r.totals == nil {
				return r, fmt.Errorf("the stream ended without the totals")
			}
			return r, nil
		}
		if err != nil {
			return r, err
		}
		if r.totals != nil {
			return r, fmt.Errorf("a message after the totals: %v", m)
		}
		switch e := m.GetResult().(type) {
		case *pb.ExportPlanResponse_Row:
			r.rows = append(r.rows, e.Row)
		case *pb.ExportPlanResponse_Totals:
			r.totals = e.Totals
		default:
			return r, fmt.Errorf("a message with neither a row nor the totals: %v", m)
		}
	}
}

// quoteText is a quote as "contribution subsidy payable BASIS version",
// the basis without its PERSON_CATEGORY_ prefix.
func quoteText(q *pb.QuoteResponse) string {
	return fmt.Sprintf("%s %s %s %s %s", q.GetContribution(), q.GetSubsidy(), q.GetPayable(), shortCategory(q.GetBasisCategory()), q.GetPolicyVersion())
}

// rowText is a plan row as "person contribution subsidy payable BASIS".
func rowText(r *pb.PlanRow) string {
	return fmt.Sprintf("%s %s %s %s %s", r.GetPersonId(), r.GetContribution(), r.GetSubsidy(), r.GetPayable(), shortCategory(r.GetBasisCategory()))
}

// totalsText is plan totals as "persons contribution subsidy payable
// [CATEGORY persons subsidy, …]".
func totalsText(t *pb.PlanTotals) string {
	var cats []string
	for _, c := range t.GetByCategory() {
		cats = append(cats, fmt.Sprintf("%s %d %s", shortCategory(c.GetCategory()), c.GetPersons(), c.GetSubsidy()))
	}
	return fmt.Sprintf("%d %s %s %s [%s]", t.GetPersons(), t.GetContribution(), t.GetSubsidy(), t.GetPayable(), strings.Join(cats, ", "))
}

// shortCategory is a category's name without PERSON_CATEGORY_.
func shortCategory(c pb.PersonCategory) string {
	return strings.TrimPrefix(c.String(), "PERSON_CATEGORY_")
}
