package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// drgSummary is the DRG example of CLEARING-EXAMPLES.md as a summary.
func drgSummary() (*pb.ClearingSummary, map[string][]*pb.StatementCase) {
	s := &pb.ClearingSummary{
		RunId: "RUN-1", Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
		Year: 2026, PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31", Settlements: 5, Ungrouped: 1,
		UngroupedBasicFund: "4000.00", Budget: "95000.00", PersonalTotal: "28000.00", TotalPoints: "830.0000",
		PointValue: "148.192771", PaidTotal: "95000.00",
		Institutions: []*pb.InstitutionClearing{
			{InstitutionId: "H1", Cases: 3, Points: "350.0000", PersonalTotal: "13000.00", BasicFund: "42000.00", Payment: "38867.47", Difference: "-3132.53"},
			{InstitutionId: "H2", Cases: 1, Points: "480.0000", PersonalTotal: "15000.00", BasicFund: "55000.00", Payment: "56132.53", Difference: "1132.53"},
		},
	}
	c := func(id, code, total, ratio string, kind pb.CostKind, points, personal, fund string) *pb.StatementCase {
		return &pb.StatementCase{SettlementId: id, RequestId: "R-" + id, SettleDate: "2026-03-01", DrgCode: code, Total: total,
			Ratio: ratio, CostKind: kind, Points: points, PersonalTotal: personal, BasicFund: fund}
	}
	cases := map[string][]*pb.StatementCase{
		"H1": {
			c("S1", "G1", "12000.00", "1.2000", pb.CostKind_COST_KIND_NORMAL, "110.0000", "3000.00", "9000.00"),
			c("S2", "G1", "35000.00", "3.5000", pb.CostKind_COST_KIND_HIGH, "160.0000", "8000.00", "27000.00"),
			c("S3", "G2", "8000.00", "0.3200", pb.CostKind_COST_KIND_LOW, "80.0000", "2000.00", "6000.00"),
		},
		"H2": {c("S4", "G3", "70000.00", "1.7500", pb.CostKind_COST_KIND_HIGH, "480.0000", "15000.00", "55000.00")},
	}
	return s, cases
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	must(t, err)
	return rows
}

// TestReportCSVDRG checks the three CSV files of a DRG run.
func TestReportCSVDRG(t *testing.T) {
	dir := t.TempDir()
	s, cases := drgSummary()
	files, err := writeCSVReport(dir, s)
	must(t, err)
	if len(files) != 2 {
		t.Fatalf("wrote %v", files)
	}
	stw, err := newStatementsWriter(filepath.Join(dir, "statements.csv"))
	must(t, err)
	// Pages as GetStatement gives them: H1 in two pages, then H2.
	must(t, stw.write("H1", cases["H1"][:2]))
	must(t, stw.write("H1", cases["H1"][2:]))
	must(t, stw.write("H2", cases["H2"]))
	must(t, stw.close())
	sum := readCSV(t, filepath.Join(dir, "summary.csv"))
	if len(sum) != 2 || strings.Join(sum[0], ",") != strings.Join(summaryColumns, ",") {
		t.Fatalf("summary.csv: %v", sum)
	}
	got := map[string]string{}
	for i, h := range sum[0] {
		got[h] = sum[1][i]
	}
	for k, v := range map[string]string{"run_id": "RUN-1", "kind": "drg", "scheme": "employee", "year": "2026", "final": "false",
		"settlements": "5", "ungrouped": "1", "ungrouped_basic_fund": "4000.00", "budget": "95000.00", "point_value": "148.192771",
		"paid_total": "95000.00", "total_points": "830.0000", "members": "", "contract_id": ""} {
		if got[k] != v {
			t.Errorf("summary.csv %s = %q, want %q", k, got[k], v)
		}
	}
	inst := readCSV(t, filepath.Join(dir, "institutions.csv"))
	want := [][]string{
		{"institution_id", "cases", "points", "personal_total", "basic_fund", "payment", "difference"},
		{"H1", "3", "350.0000", "13000.00", "42000.00", "38867.47", "-3132.53"},
		{"H2", "1", "480.0000", "15000.00", "55000.00", "56132.53", "1132.53"},
	}
	if !equalRows(inst, want) {
		t.Errorf("institutions.csv:\n%v\nwant\n%v", inst, want)
	}
	st := readCSV(t, filepath.Join(dir, "statements.csv"))
	if len(st) != 5 || strings.Join(st[0], ",") != strings.Join(statementColumns, ",") {
		t.Fatalf("statements.csv: %v", st)
	}
	if got := strings.Join(st[2], ","); got != "H1,S2,R-S2,2026-03-01,G1,35000.00,3.5000,HIGH,160.0000,8000.00,27000.00" {
		t.Errorf("statements.csv row 2: %s", got)
	}
	if st[4][0] != "H2" || st[4][7] != "HIGH" || st[3][7] != "LOW" {
		t.Errorf("statements.csv: %v", st)
	}
}

// TestReportCSVBudgetAndCapitation checks the files of the other kinds.
func TestReportCSVBudgetAndCapitation(t *testing.T) {
	dir := t.TempDir()
	b := &pb.ClearingSummary{RunId: "RUN-B", Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
		Year: 2026, Settlements: 4, Budget: "1000000.00", PaidTotal: "950000.00", UngroupedBasicFund: "",
		Institutions: []*pb.InstitutionClearing{{InstitutionId: "H1", Cases: 4, Budget: "1000000.00", Claimed: "900000.00", Retained: "50000.00", Shared: "0.00", Paid: "950000.00"}}}
	files, err := writeCSVReport(dir, b)
	must(t, err)
	if len(files) != 2 {
		t.Errorf("budget wrote %v", files)
	}
	inst := readCSV(t, filepath.Join(dir, "institutions.csv"))
	if !equalRows(inst, [][]string{{"institution_id", "cases", "budget", "claimed", "retained", "shared", "paid"}, {"H1", "4", "1000000.00", "900000.00", "50000.00", "0.00", "950000.00"}}) {
		t.Errorf("budget institutions.csv: %v", inst)
	}
	sum := readCSV(t, filepath.Join(dir, "summary.csv"))
	if sum[1][1] != "budget" || sum[1][9] != "" {
		t.Errorf("budget summary.csv (ungrouped must be empty): %v", sum)
	}

	dir = t.TempDir()
	c := capitationSummary()
	files, err = writeCSVReport(dir, c)
	must(t, err)
	if len(files) != 4 {
		t.Errorf("capitation wrote %v", files)
	}
	if got := readCSV(t, filepath.Join(dir, "shares.csv")); !equalRows(got, [][]string{{"party", "amount"}, {"county", "728.00"}, {"township", "727.99"}, {"village", "364.00"}}) {
		t.Errorf("shares.csv: %v", got)
	}
	if got := readCSV(t, filepath.Join(dir, "components.csv")); !equalRows(got, [][]string{{"component", "budget", "actual"}, {"chronic care", "11100.00", "9500.01"}, {"two-disease quota", "720.00", "500.00"}}) {
		t.Errorf("components.csv: %v", got)
	}
	sum = readCSV(t, filepath.Join(dir, "summary.csv"))
	row := map[string]string{}
	for i, h := range sum[0] {
		row[h] = sum[1][i]
	}
	if row["members"] != "3" || row["contract_id"] != "SX-1" || row["surplus"] != "1819.99" || row["paid_total"] != "11820.00" {
		t.Errorf("capitation summary.csv: %v", row)
	}
}

// capitationSummary is the capitation example of CLEARING-EXAMPLES.md.
func capitationSummary() *pb.ClearingSummary {
	return &pb.ClearingSummary{
		RunId: "RUN-C", Kind: pb.ClearingKind_CLEARING_KIND_CAPITATION, Region: "610300", Scheme: pb.Scheme_SCHEME_RESIDENT, Year: 2026,
		PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31", Settlements: 7, Budget: "11820.00", PaidTotal: "11820.00", ContractId: "SX-1",
		Capitation: &pb.CapitationClearing{
			ContractId: "SX-1", Members: 3, Budget: "11820.00", Actual: "10000.01", Surplus: "1819.99",
			Shares:  []*pb.PartyAmount{{Party: "county", Amount: "728.00"}, {Party: "township", Amount: "727.99"}, {Party: "village", Amount: "364.00"}},
			Deficit: "0.00", FundCovers: "0.00", ContractBears: "0.00",
			Components: []*pb.ComponentClearing{{Name: "chronic care", Budget: "11100.00", Actual: "9500.01"}, {Name: "two-disease quota", Budget: "720.00", Actual: "500.00"}},
		},
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

// externalRef finds a src or href that would load something from the
// network.
var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)

// checkSelfContained fails unless the HTML report loads nothing from the
// network, has inline SVG charts and names every institution.
func checkSelfContained(t *testing.T, html string, names ...string) {
	t.Helper()
	if m := externalRef.FindString(html); m != "" {
		t.Errorf("the report loads %q from the network", m)
	}
	for _, bad := range []string{"<script", "<link", "<img", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("the report has %q", bad)
		}
	}
	if !strings.Contains(html, "<svg") {
		t.Error("the report has no inline <svg>")
	}
	if strings.Contains(html, "<?xml") {
		t.Error("the report inlines an XML declaration")
	}
	for _, n := range names {
		if !strings.Contains(html, n) {
			t.Errorf("the report does not name %q", n)
		}
	}
}

// TestReportHTML renders each kind's report and checks that it is
// self-contained, has its charts and names every institution.
func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	s, cases := drgSummary()
	counts := costKindCounts{}
	for id, page := range cases {
		counts.add(id, page)
	}
	path := filepath.Join(dir, "drg.html")
	must(t, writeHTMLReport(path, s, counts))
	raw, err := os.ReadFile(path)
	must(t, err)
	html := string(raw)
	checkSelfContained(t, html, "H1", "H2", "148.192771", "95000.00", "-3132.53")
	if n := strings.Count(html, "<svg"); n != 2 {
		t.Errorf("DRG report has %d charts, want 2 (payment against basic fund, points)", n)
	}
	if !strings.Contains(html, `class="neg">-3132.53`) || !strings.Contains(html, `class="pos">1132.53`) {
		t.Error("differences are not marked as overspend and surplus")
	}
	// Cases by cost kind: H1 one normal, one high, one low; H2 one high.
	if !strings.Contains(html, "<tr><td>H1</td><td>3</td><td>1</td><td>1</td><td>1</td></tr>") ||
		!strings.Contains(html, "<tr><td>H2</td><td>1</td><td>0</td><td>1</td><td>0</td></tr>") {
		t.Error("the report lacks the cases by cost kind")
	}

	b := &pb.ClearingSummary{RunId: "RUN-B", Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
		Year: 2026, PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31", Budget: "1060000.00", PaidTotal: "1010000.00"}
	for i, c := range [][]string{{"QZ-H1", "1000000.00", "900000.00", "950000.00"}, {"QZ-H2", "60000.00", "80000.00", "63000.00"}} {
		b.Institutions = append(b.Institutions, &pb.InstitutionClearing{InstitutionId: c[0], Cases: int64(i + 1), Budget: c[1], Claimed: c[2], Paid: c[3]})
	}
	path = filepath.Join(dir, "budget.html")
	must(t, writeHTMLReport(path, b, nil))
	raw, err = os.ReadFile(path)
	must(t, err)
	checkSelfContained(t, string(raw), "QZ-H1", "QZ-H2", "budget G", "claimed C", "paid")

	path = filepath.Join(dir, "capitation.html")
	must(t, writeHTMLReport(path, capitationSummary(), nil))
	raw, err = os.ReadFile(path)
	must(t, err)
	checkSelfContained(t, string(raw), "county", "township", "village", "chronic care", "two-disease quota", "SX-1")
	if n := strings.Count(string(raw), "<svg"); n != 2 {
		t.Errorf("capitation report has %d charts, want 2 (shares, K against A)", n)
	}

	// A deficit shows what the fund covers and the contract bears.
	d := capitationSummary()
	d.Capitation.Shares, d.Capitation.Actual, d.Capitation.Surplus = nil, "13000.00", "0.00"
	d.Capitation.Deficit, d.Capitation.FundCovers, d.Capitation.ContractBears = "1180.00", "590.00", "590.00"
	var out bytes.Buffer
	printSummary(&out, d)
	for _, want := range []string{"deficit A − K", "1180.00", "fund covers", "contract bears"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("deficit summary lacks %q:\n%s", want, out.String())
		}
	}
	path = filepath.Join(dir, "deficit.html")
	must(t, writeHTMLReport(path, d, nil))
	raw, err = os.ReadFile(path)
	must(t, err)
	checkSelfContained(t, string(raw), "fund covers", "contract bears")

	// No grouped case: no chart, and the report says why.
	empty := &pb.ClearingSummary{RunId: "RUN-0", Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: "350500", PointValue: "0.000000", PaidTotal: "0.00"}
	path = filepath.Join(dir, "empty.html")
	must(t, writeHTMLReport(path, empty, nil))
	raw, err = os.ReadFile(path)
	must(t, err)
	if strings.Contains(string(raw), "<svg") || !strings.Contains(string(raw), "No grouped case") {
		t.Errorf("empty DRG report:\n%s", raw)
	}
}

// TestReportSummaryTable prints the DRG summary as the terminal shows it.
func TestReportSummaryTable(t *testing.T) {
	s, _ := drgSummary()
	var out bytes.Buffer
	printSummary(&out, s)
	text := out.String()
	for _, want := range []string{"run id", "RUN-1", "kind", "drg", "period", "2026-01-01 to 2026-12-31", "final", "no (draft",
		"settlements       5", "ungrouped         1 (basic fund 4000.00", "budget B          95000.00", "point value V     148.192771",
		"paid total        95000.00", "institution  cases", "H1               3  350.0000", "-3132.53"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

func TestReportGroupThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 12500: "12,500", -3132.53: "-3,133", 1250000: "1,250,000", 0.5: "0.5", 999: "999", 1000: "1,000"} {
		if got := groupThousands(v); got != want {
			t.Errorf("groupThousands(%v) = %q, want %q", v, got, want)
		}
	}
}
