package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// The worked examples of docs/RULES.md are checked here, so that the
// project's own rules documentation cannot drift from the code. Every
// fenced ```json block of the doc must be tagged `example:NAME`; its
// "kind" says how it runs:
//   - "settle": a scenario in the shape of testdata/vectors (policies,
//     institutions, persons, filings, steps), replayed against the engine
//     with the ledger of vectors_engine_test.go;
//   - "drg": engine.ClearDRG over the cases, every figure of the summary,
//     of each institution line and of each case line compared;
//   - "budget-clearing": engine.NewBudgetClearer over institutions and
//     cases, every institution line compared;
//   - "capitation": engine.NewCapitationClearer over the members and the
//     cases, the summary, components and shares compared.

const rulesDoc = "../docs/RULES.md"

// rulesDocExamples are the examples the doc must keep (it may add more).
var rulesDocExamples = []string{
	"classify-items", "inpatient-sequence", "cap-highest-band", "chronic-annual",
	"pre-self-pay-included", "catastrophic-and-aid", "aid-ceiling", "account-and-cash", "cross-region",
	"institution-budget", "idempotency-reversal",
	"drg-points", "budget-clearing", "capitation-surplus", "capitation-deficit",
	"contribution-plan", "contribution-tie",
}

var (
	docFenceRE   = regexp.MustCompile("(?s)```([^\n]*)\n(.*?)\n```")
	docExampleRE = regexp.MustCompile(`^json example:([a-z0-9-]+)$`)
)

type docExample struct {
	Kind string `json:"kind"`
	scenario
	// Drg is a medsettle.v1.Drg (protojson), Budget the region's DRG budget.
	Drg    json.RawMessage `json:"drg"`
	Budget string          `json:"budget"`
	// BudgetClearing is a medsettle.v1.BudgetClearing (protojson), cleared
	// for Year over the scenario's institutions.
	BudgetClearing json.RawMessage `json:"budgetClearing"`
	Year           int             `json:"year"`
	// Contract is a medsettle.v1.CapitationContract (protojson).
	Contract json.RawMessage `json:"contract"`
	Members  int64           `json:"members"`
	Cases    []docCase       `json:"cases"`
	// Expect holds the expected figures of a clearing example.
	Expect json.RawMessage `json:"expect"`
}

// docCase is a settled settlement as a clearing run reads it.
type docCase struct {
	ID            string `json:"id"`
	Institution   string `json:"institution"`
	Level         int    `json:"level"`
	VisitType     string `json:"visitType"`
	DRGCode       string `json:"drgCode"`
	Total         string `json:"total"`
	PersonalTotal string `json:"personalTotal"`
	BasicFund     string `json:"basicFund"`
}

func docCases(t *testing.T, in []docCase) []engine.ClearingCase {
	t.Helper()
	var out []engine.ClearingCase
	for _, c := range in {
		vt, ok := pb.VisitType_value[c.VisitType]
		if !ok {
			t.Fatalf("case %s: visit type %q", c.ID, c.VisitType)
		}
		out = append(out, engine.ClearingCase{
			SettlementID: c.ID, RequestID: c.ID, InstitutionID: c.Institution, Level: c.Level,
			VisitType: engine.VisitType(vt), DRGCode: c.DRGCode,
			Total: docMoney(t, c.Total), PersonalTotal: docMoney(t, c.PersonalTotal), BasicFund: docMoney(t, c.BasicFund),
		})
	}
	return out
}

// TestRulesDocExamples runs every worked example of docs/RULES.md.
func TestRulesDocExamples(t *testing.T) {
	raw, err := os.ReadFile(rulesDoc)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range docFenceRE.FindAllStringSubmatch(string(raw), -1) {
		info, body := strings.TrimSpace(m[1]), m[2]
		if !strings.HasPrefix(info, "json") {
			continue
		}
		em := docExampleRE.FindStringSubmatch(info)
		if em == nil {
			t.Errorf("a json block of %s is not tagged example:NAME (%q): every json block is checked", rulesDoc, info)
			continue
		}
		name := em[1]
		if seen[name] {
			t.Errorf("example %s appears twice", name)
		}
		seen[name] = true
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.DisallowUnknownFields()
		var ex docExample
		if err := dec.Decode(&ex); err != nil {
			t.Errorf("example %s: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) { runDocExample(t, ex) })
	}
	if len(seen) < len(rulesDocExamples) {
		t.Errorf("%s has %d examples, want at least %d", rulesDoc, len(seen), len(rulesDocExamples))
	}
	for _, want := range rulesDocExamples {
		if !seen[want] {
			t.Errorf("%s lost the example %s", rulesDoc, want)
		}
	}
}

func runDocExample(t *testing.T, ex docExample) {
	switch ex.Kind {
	case "settle":
		if len(ex.Steps) == 0 {
			t.Fatal("a settle example without steps checks nothing")
		}
		for i, st := range ex.Steps {
			if len(st.Expect) == 0 {
				t.Fatalf("step %d has no expectation", i)
			}
		}
		replayScenario(t, ex.scenario, newLedger())
	case "drg":
		runDocDRG(t, ex)
	case "budget-clearing":
		runDocBudget(t, ex)
	case "capitation":
		runDocCapitation(t, ex)
	case "contribution":
		runDocContribution(t, ex)
	default:
		t.Fatalf("unknown kind %q", ex.Kind)
	}
}

// docDec parses an expected figure; the doc writes money with two decimals.
func docDec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("figure %q: %v", s, err)
	}
	return d
}

// docMoney parses an amount of the doc (two decimals at most).
func docMoney(t *testing.T, s string) engine.Money {
	t.Helper()
	m, err := engine.ParseMoney(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return m
}

// docRatio parses a ratio of the doc.
func docRatio(t *testing.T, s string) engine.Ratio {
	t.Helper()
	r, err := engine.ParseRatio(s)
	if err != nil {
		t.Fatalf("ratio %q: %v", s, err)
	}
	return r
}

// docSame compares a computed figure with the doc's, exactly (as numbers:
// "0.50" is 0.5).
func docSame(t *testing.T, what string, got fmt.Stringer, want string) {
	t.Helper()
	if want == "" {
		t.Errorf("%s: the doc gives no figure (engine: %s)", what, got)
		return
	}
	if !docDec(t, got.String()).Equal(docDec(t, want)) {
		t.Errorf("%s = %s, the doc says %s", what, got, want)
	}
}

func docStrictExpect(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("expect: %v", err)
	}
}

func runDocDRG(t *testing.T, ex docExample) {
	var want struct {
		Budget        string
		PersonalTotal string
		TotalPoints   string
		PointValue    string
		PaidTotal     string
		Ungrouped     int64
		Cases         []struct{ SettlementID, Ratio, Kind, Points string }
		Institutions  []struct{ InstitutionID, Points, PersonalTotal, BasicFund, Payment, Difference string }
	}
	docStrictExpect(t, ex.Expect, &want)
	var d pb.Drg
	unmarshalInto(t, ex.Drg, &d)
	var p parser
	drg := p.drg("drg", &d)
	if err := p.v.Err(); err != nil {
		t.Fatal(err)
	}
	run, lines, err := engine.ClearDRG(drg, docMoney(t, ex.Budget), docCases(t, ex.Cases))
	if err != nil {
		t.Fatal(err)
	}
	docSame(t, "B", run.Budget, want.Budget)
	docSame(t, "P", run.PersonalTotal, want.PersonalTotal)
	docSame(t, "T", run.TotalPoints, want.TotalPoints)
	docSame(t, "V", run.PointValue, want.PointValue)
	docSame(t, "paid_total", run.PaidTotal, want.PaidTotal)
	if run.Ungrouped != want.Ungrouped {
		t.Errorf("ungrouped = %d, the doc says %d", run.Ungrouped, want.Ungrouped)
	}
	if len(lines) != len(want.Cases) {
		t.Fatalf("%d grouped cases, the doc lists %d", len(lines), len(want.Cases))
	}
	kinds := map[engine.CostKind]string{engine.CostNormal: "normal", engine.CostHigh: "high", engine.CostLow: "low"}
	for i, w := range want.Cases {
		g := lines[i]
		if g.SettlementID != w.SettlementID || kinds[g.Kind] != w.Kind {
			t.Errorf("case %d = %s %s, the doc says %s %s", i, g.SettlementID, kinds[g.Kind], w.SettlementID, w.Kind)
		}
		docSame(t, w.SettlementID+" r", g.Ratio, w.Ratio)
		docSame(t, w.SettlementID+" points", g.Points, w.Points)
	}
	if len(run.Institutions) != len(want.Institutions) {
		t.Fatalf("%d institution lines, the doc lists %d", len(run.Institutions), len(want.Institutions))
	}
	for i, w := range want.Institutions {
		g := run.Institutions[i]
		if g.InstitutionID != w.InstitutionID {
			t.Errorf("line %d is %s, the doc says %s", i, g.InstitutionID, w.InstitutionID)
		}
		docSame(t, w.InstitutionID+" points", g.Points, w.Points)
		docSame(t, w.InstitutionID+" personal_total", g.PersonalTotal, w.PersonalTotal)
		docSame(t, w.InstitutionID+" basic_fund", g.BasicFund, w.BasicFund)
		docSame(t, w.InstitutionID+" payment", g.Payment, w.Payment)
		docSame(t, w.InstitutionID+" difference", g.Difference, w.Difference)
	}
}

func runDocBudget(t *testing.T, ex docExample) {
	var want struct {
		Budget       string
		PaidTotal    string
		Institutions []struct{ InstitutionID, Budget, Claimed, Retained, Shared, Paid string }
	}
	docStrictExpect(t, ex.Expect, &want)
	var bc pb.BudgetClearing
	unmarshalInto(t, ex.BudgetClearing, &bc)
	rules := &engine.BudgetClearing{
		SurplusRetention: docRatio(t, bc.GetSurplusRetention()), MinUtilization: docRatio(t, bc.GetMinUtilization()),
		OverspendShare: docRatio(t, bc.GetOverspendShare()), OverspendTolerance: docRatio(t, bc.GetOverspendTolerance()),
	}
	var p parser
	var insts []engine.Institution
	for _, raw := range ex.Institutions {
		var in pb.Institution
		unmarshalInto(t, raw, &in)
		insts = append(insts, p.institution("institution", &in))
	}
	if err := p.v.Err(); err != nil {
		t.Fatal(err)
	}
	cl := engine.NewBudgetClearer(rules, ex.Year)
	if err := cl.Begin(engine.RunInputs{Institutions: insts}); err != nil {
		t.Fatal(err)
	}
	for _, k := range docCases(t, ex.Cases) {
		if _, err := cl.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	run, err := cl.Finish()
	if err != nil {
		t.Fatal(err)
	}
	docSame(t, "Σ G", run.Budget, want.Budget)
	docSame(t, "paid_total", run.PaidTotal, want.PaidTotal)
	if len(run.Institutions) != len(want.Institutions) {
		t.Fatalf("%d institution lines, the doc lists %d", len(run.Institutions), len(want.Institutions))
	}
	for i, w := range want.Institutions {
		g := run.Institutions[i]
		if g.InstitutionID != w.InstitutionID {
			t.Errorf("line %d is %s, the doc says %s", i, g.InstitutionID, w.InstitutionID)
		}
		docSame(t, w.InstitutionID+" G", g.Budget, w.Budget)
		docSame(t, w.InstitutionID+" C", g.Claimed, w.Claimed)
		docSame(t, w.InstitutionID+" retained", g.Retained, w.Retained)
		docSame(t, w.InstitutionID+" shared", g.Shared, w.Shared)
		docSame(t, w.InstitutionID+" paid", g.Paid, w.Paid)
	}
}

func runDocCapitation(t *testing.T, ex docExample) {
	var want struct {
		Budget, Actual, Surplus, Deficit, FundCovers, ContractBears, PaidTotal string
		Components                                                             []struct{ Name, Budget, Actual string }
		Shares                                                                 []struct{ Party, Amount string }
	}
	docStrictExpect(t, ex.Expect, &want)
	var pc pb.CapitationContract
	unmarshalInto(t, ex.Contract, &pc)
	var p parser
	contract := p.contract("contract", &pc)
	if err := p.v.Err(); err != nil {
		t.Fatal(err)
	}
	if err := engine.ValidateContract(&contract); err != nil {
		t.Fatal(err)
	}
	cl := engine.NewCapitationClearer(&contract)
	if err := cl.Begin(engine.RunInputs{Members: ex.Members}); err != nil {
		t.Fatal(err)
	}
	for _, k := range docCases(t, ex.Cases) {
		if _, err := cl.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	run, err := cl.Finish()
	if err != nil {
		t.Fatal(err)
	}
	c := run.Capitation
	if c == nil {
		t.Fatal("no capitation figures")
	}
	docSame(t, "K", c.Budget, want.Budget)
	docSame(t, "A", c.Actual, want.Actual)
	docSame(t, "surplus", c.Surplus, want.Surplus)
	docSame(t, "deficit", c.Deficit, want.Deficit)
	docSame(t, "fund_covers", c.FundCovers, want.FundCovers)
	docSame(t, "contract_bears", c.ContractBears, want.ContractBears)
	docSame(t, "paid_total", run.PaidTotal, want.PaidTotal)
	if len(c.Components) != len(want.Components) || len(c.Shares) != len(want.Shares) {
		t.Fatalf("%d components and %d shares, the doc lists %d and %d", len(c.Components), len(c.Shares), len(want.Components), len(want.Shares))
	}
	for i, w := range want.Components {
		g := c.Components[i]
		if g.Name != w.Name {
			t.Errorf("component %d is %s, the doc says %s", i, g.Name, w.Name)
		}
		docSame(t, w.Name+" K_c", g.Budget, w.Budget)
		docSame(t, w.Name+" A_c", g.Actual, w.Actual)
	}
	for i, w := range want.Shares {
		g := c.Shares[i]
		if g.Party != w.Party {
			t.Errorf("share %d is %s, the doc says %s", i, g.Party, w.Party)
		}
		docSame(t, w.Party+" share", g.Amount, w.Amount)
	}
}
