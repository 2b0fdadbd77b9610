package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// seed003JSON is seed 003's section as GetPolicy renders it.
const seed003JSON = `{"amount":"380.00","subsidies":[{"category":"PERSON_CATEGORY_DESTITUTE","full":true},` +
	`{"category":"PERSON_CATEGORY_MINIMUM_LIVING","amount":"340.00"},{"category":"PERSON_CATEGORY_MONITORED","amount":"190.00"}]}`

// sectionJSON is a contribution section as compact protojson.
func sectionJSON(t *testing.T, c *pb.Contribution) string {
	t.Helper()
	if c == nil {
		return "null"
	}
	b, err := protojson.MarshalOptions{}.Marshal(c)
	must(t, err)
	// protojson's spacing is not stable: compare without it.
	return strings.NewReplacer(" ", "", "\n", "").Replace(string(b))
}

// TestContributionPolicyRoundTrip: PutPolicy, GetPolicy and ListPolicies
// carry the contribution section on both stores, amounts with two
// decimals and a full subsidy without an amount; on PostgreSQL it is read
// back from the stored document by a second server that did not write it.
func TestContributionPolicyRoundTrip(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := contributionServer(t, kind)
			ctx, cancel := as(adminToken)
			defer cancel()
			put, err := c.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: contributionPolicy("340700", &pb.Contribution{
				Amount: "380.5", Subsidies: []*pb.Subsidy{{Category: catMonitored, Amount: "0.01"}, {Category: catPoverty, Full: true}}})})
			must(t, err)
			const other = `{"amount":"380.50","subsidies":[{"category":"PERSON_CATEGORY_MONITORED","amount":"0.01"},{"category":"PERSON_CATEGORY_POVERTY_ALLEVIATED","full":true}]}`
			if got := sectionJSON(t, put.GetPolicy().GetContribution()); got != other {
				t.Errorf("PutPolicy answers %s, want %s", got, other)
			}
			got, err := c.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: contributionRegion, Scheme: resident})
			must(t, err)
			if s := sectionJSON(t, got.GetPolicy().GetContribution()); s != seed003JSON {
				t.Errorf("GetPolicy: %s, want %s", s, seed003JSON)
			}
			emp, err := c.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: contributionRegion, Scheme: employee})
			must(t, err)
			if emp.GetPolicy().GetContribution() != nil {
				t.Errorf("a policy without the section reads with %v", emp.GetPolicy().GetContribution())
			}
			list, err := c.policy.ListPolicies(ctx, &pb.ListPoliciesRequest{Region: contributionRegion, Scheme: resident})
			must(t, err)
			if len(list.GetPolicies()) != 1 || sectionJSON(t, list.GetPolicies()[0].GetContribution()) != seed003JSON {
				t.Errorf("ListPolicies: %v", list.GetPolicies())
			}
		})
	}
}

// TestContributionPolicySurvivesRestart: a second PostgreSQL server on the
// same schema, which reads the policy from its stored document, answers
// the section and quotes with it.
func TestContributionPolicySurvivesRestart(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	open := func() *contributionTS {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema, Log: discard})
		must(t, err)
		t.Cleanup(st.Close)
		ts := startServerOn(t, st, map[string]string{adminToken: "admin", clearingToken: "clearing"})
		return &contributionTS{testServer: ts, t: t, contribution: pb.NewContributionServiceClient(ts.conn)}
	}
	first := open()
	first.putPolicy(contributionPolicy(contributionRegion, seed003Section()))
	first.resident("RS-1", contributionRegion, catMinimum)

	second := open()
	ctx, cancel := as(adminToken)
	defer cancel()
	got, err := second.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: contributionRegion, Scheme: resident})
	must(t, err)
	if s := sectionJSON(t, got.GetPolicy().GetContribution()); s != seed003JSON {
		t.Errorf("GetPolicy after a restart: %s, want %s", s, seed003JSON)
	}
	q, err := second.quote(clearingToken, "RS-1", 2026, "")
	must(t, err)
	if got, want := quoteText(q), "380.00 340.00 40.00 MINIMUM_LIVING 2026.1"; got != want {
		t.Errorf("quote after a restart: %s, want %s", got, want)
	}
}

// violationTexts renders the BadRequest of err as "field: description"
// lines, in the order sent.
func violationTexts(t *testing.T, err error) []string {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField()+": "+v.GetDescription())
			}
		}
	}
	return out
}

// TestContributionPolicyViolations: PutPolicy lists every problem of the
// section at once, each under its field path, and stores nothing.
func TestContributionPolicyViolations(t *testing.T) {
	c := contributionServer(t, memKind)
	const (
		sub      = "policy.contribution.subsidies"
		category = "must be a category that is subsidised: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got %s)"
		both     = "must be empty when full is set: give exactly one of full or amount"
		neither  = "is required unless full is set: give exactly one of full or amount"
		notMoney = "%s: money is a string with at most two decimals, like \"1234.50\""
	)
	badMoney := func(s string) string {
		_, err := engine.ParseMoney(s)
		return fmt.Sprintf(notMoney, err)
	}
	cases := []struct {
		name    string
		section *pb.Contribution
		want    []string
	}{
		{"everything at once", &pb.Contribution{Amount: "380", Subsidies: []*pb.Subsidy{
			{Category: catDestitute, Full: true},
			{Category: catOrdinary, Amount: "10"},
			{Category: catNone, Full: true},
			{Category: catMinimum, Full: true, Amount: "340"},
			{Category: catMonitored},
			{Category: catPoverty, Amount: "380.01"},
			{Category: catDestitute, Amount: "0"},
			{Category: 9, Amount: "1"},
			{Category: catMinimum, Amount: "1.005"},
			{Category: catMonitored, Full: true, Amount: "0"},
		}}, []string{
			// What the document's form gets wrong, as it is read…
			sub + "[3].amount: " + both,
			sub + "[4].amount: " + neither,
			sub + "[7].category: 9 is not a known value",
			sub + "[8].amount: " + badMoney("1.005"),
			sub + "[9].amount: " + both,
			// …then the rules (engine.ValidatePolicy), each field once.
			sub + "[1].category: " + fmt.Sprintf(category, "PERSON_CATEGORY_ORDINARY"),
			sub + "[2].category: " + fmt.Sprintf(category, "PERSON_CATEGORY_UNSPECIFIED"),
			sub + "[5].amount: subsidy above the contribution: 380.01 is more than the contribution 380.00 (set full for a subsidy of all of it)",
			sub + "[6].category: PERSON_CATEGORY_DESTITUTE is listed twice (also subsidies[0]): a category has one subsidy",
			sub + "[6].amount: must be greater than 0 unless full is set: give exactly one of full or amount, got 0.00",
			sub + "[8].category: PERSON_CATEGORY_MINIMUM_LIVING is listed twice (also subsidies[3]): a category has one subsidy",
			sub + "[9].category: PERSON_CATEGORY_MONITORED is listed twice (also subsidies[4]): a category has one subsidy",
		}},
		{"amount missing", &pb.Contribution{Subsidies: []*pb.Subsidy{{Category: catMonitored, Amount: "190"}}}, []string{
			"policy.contribution.amount: is required: the yearly contribution, money ≥ 0 with at most two decimals, like \"380.00\"",
		}},
		{"amount negative", &pb.Contribution{Amount: "-380", Subsidies: []*pb.Subsidy{{Category: catMonitored, Amount: "190"}}}, []string{
			"policy.contribution.amount: " + badMoney("-380"),
		}},
		{"amount not money", &pb.Contribution{Amount: "380.001", Subsidies: []*pb.Subsidy{{Category: catMonitored, Amount: "190"}}}, []string{
			"policy.contribution.amount: " + badMoney("380.001"),
		}},
		{"above zero", &pb.Contribution{Amount: "0", Subsidies: []*pb.Subsidy{{Category: catDestitute, Full: true}, {Category: catMonitored, Amount: "0.01"}}}, []string{
			sub + "[1].amount: subsidy above the contribution: 0.01 is more than the contribution 0.00 (set full for a subsidy of all of it)",
		}},
	}
	ctx, cancel := as(adminToken)
	defer cancel()
	for _, tc := range cases {
		_, err := c.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: contributionPolicy("340700", tc.section)})
		if got := violationTexts(t, err); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s: violations\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
	_, err := c.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: "340700", Scheme: resident})
	wantCode(t, err, codes.NotFound)

	// Too many subsidies: one violation for the list.
	long := &pb.Contribution{Amount: "380"}
	for range engine.MaxRows + 1 {
		long.Subsidies = append(long.Subsidies, &pb.Subsidy{Category: catDestitute, Full: true})
	}
	_, err = c.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: contributionPolicy("340700", long)})
	want := fmt.Sprintf("%s: has %d rows; at most %d are allowed", sub, engine.MaxRows+1, engine.MaxRows)
	if got := violationTexts(t, err); strings.Join(got, "\n") != want {
		t.Errorf("too many subsidies: violations %q, want %q", got, want)
	}
	// A bad section beside other bad fields: all are listed.
	p := contributionPolicy("340700", &pb.Contribution{Subsidies: []*pb.Subsidy{{Category: catOrdinary, Full: true}}})
	p.EffectiveTo = "2025-12-31"
	_, err = c.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: p})
	if got, want := fieldViolations(t, err), []string{"policy.contribution.amount", sub + "[0].category", "policy.effective_to"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("violations %v, want %v", got, want)
	}
}
