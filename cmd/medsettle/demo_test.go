package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/examples"
)

// startDemoServer starts `serve --demo` on the embedded store, with
// tokens when tokens is not empty, and waits until it serves.
func startDemoServer(t *testing.T, tokens string) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	args := []string{"--demo", "--listen", addr}
	if tokens != "" {
		path := filepath.Join(t.TempDir(), "tokens.json")
		must(t, os.WriteFile(path, []byte(tokens), 0o600))
		args = append(args, "--tokens", path)
	}
	go func() { done <- serve(ctx, args, &logs) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop")
		}
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("serve --demo did not start: %v\n%s", err, logs.String())
	}
	return addr
}

// TestDemoSettleThenClear creates the demo settlements as the README
// does, twice (a rerun changes nothing), then clears them: DRG pays
// exactly B, the CSV and HTML reports agree with the summary, and budget
// and capitation runs clear the demo hospitals and contract.
func TestDemoSettleThenClear(t *testing.T) {
	addr := startDemoServer(t, "")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	must(t, runDemo(ctx, []string{"settle", "--addr", addr}, &out, &errOut))
	first := out.String()
	for _, want := range []string{"registered 2 hospitals (QZ-H4, QZ-H5) and 76 persons", "settled 83 claims",
		"reversed DEMO-QZ-0045", "capitation contract SX-2026", "48 members", "medsettle clear drg --region 350500"} {
		if !strings.Contains(first, want) {
			t.Errorf("demo settle output lacks %q:\n%s", want, first)
		}
	}
	out.Reset()
	must(t, runDemo(ctx, []string{"settle", "--addr", addr}, &out, &errOut))
	if out.String() != first {
		t.Errorf("a rerun of demo settle answered differently:\n%s\nthen\n%s", first, out.String())
	}

	// Statements in pages of 4 cases: the CSV must still list each once.
	defer func(n int32) { statementPageSize = n }(statementPageSize)
	statementPageSize = 4
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	out.Reset()
	must(t, runClear(ctx, []string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", demoDRGBudget,
		"--addr", addr, "--csv", dir, "--html", html}, &out, &errOut))
	sum := readCSV(t, filepath.Join(dir, "summary.csv"))
	row := map[string]string{}
	for i, h := range sum[0] {
		row[h] = sum[1][i]
	}
	// B = round(budget × (1 − reserve_ratio 0.05)), and the payments add up to it.
	b := decimal.RequireFromString(demoDRGBudget).Mul(decimal.RequireFromString("0.95")).StringFixed(2)
	if row["budget"] != b || row["paid_total"] != b {
		t.Errorf("DRG budget %s, paid_total %s; want both %s (B)", row["budget"], row["paid_total"], b)
	}
	if row["ungrouped"] != "3" || row["kind"] != "drg" || row["final"] != "false" {
		t.Errorf("summary.csv: %v", row)
	}
	inst := readCSV(t, filepath.Join(dir, "institutions.csv"))
	paid := decimal.Zero
	var names []string
	for _, r := range inst[1:] {
		paid = paid.Add(decimal.RequireFromString(r[5]))
		names = append(names, r[0])
	}
	if !paid.Equal(decimal.RequireFromString(b)) || strings.Join(names, ",") != "QZ-H2,QZ-H3,QZ-H4,QZ-H5" {
		t.Errorf("institutions.csv pays %s to %v, want %s to QZ-H2..QZ-H5", paid, names, b)
	}
	// statements.csv lists every grouped case once, none reversed.
	cases := readCSV(t, filepath.Join(dir, "statements.csv"))
	kinds := map[string]int{}
	seen := map[string]bool{}
	for _, r := range cases[1:] {
		kinds[r[7]]++
		if r[2] == "DEMO-QZ-0045" {
			t.Error("the reversed settlement is in a statement")
		}
		if seen[r[1]] {
			t.Errorf("settlement %s is listed twice", r[1])
		}
		seen[r[1]] = true
	}
	if got := len(cases) - 1; row["settlements"] != itoa(got+3) {
		t.Errorf("statements.csv has %d cases, summary counts %s settlements with 3 ungrouped", got, row["settlements"])
	}
	if kinds["HIGH"] < 2 || kinds["LOW"] < 2 || kinds["NORMAL"] == 0 {
		t.Errorf("cost kinds of the demo cases: %v", kinds)
	}
	raw, err := os.ReadFile(html)
	must(t, err)
	checkSelfContained(t, string(raw), append(names, row["point_value"], b)...)
	if !strings.Contains(out.String(), "paid total        "+b) {
		t.Errorf("the printed summary lacks the paid total:\n%s", out.String())
	}

	out.Reset()
	must(t, runClear(ctx, []string{"budget", "--region", "350500", "--scheme", "employee", "--year", "2026", "--addr", addr,
		"--html", filepath.Join(dir, "budget.html")}, &out, &errOut))
	for _, want := range []string{"QZ-H1", "QZ-H2", "QZ-H3", "QZ-H4", "QZ-H5", "60000.00", "63000.00"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("budget run output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	must(t, runClear(ctx, []string{"capitation", "--contract", demoContractID, "--addr", addr, "--csv", filepath.Join(dir, "cap")}, &out, &errOut))
	for _, want := range []string{"members                     48", "budget K                    189120.00", "county", "township", "village"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("capitation run output lacks %q:\n%s", want, out.String())
		}
	}
	shares := readCSV(t, filepath.Join(dir, "cap", "shares.csv"))
	if len(shares) != 4 {
		t.Errorf("shares.csv: %v", shares)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDemoNeedsTheDemoServer says what to do when the server lacks the
// demo policies and hospitals.
func TestDemoNeedsTheDemoServer(t *testing.T) {
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	go func() { _ = serve(ctx, []string{"--listen", addr}, &logs) }()
	var out, errOut bytes.Buffer
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.Reset()
		err = runDemo(context.Background(), []string{"settle", "--addr", addr}, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "Unavailable") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err == nil || !strings.Contains(err.Error(), "serve --demo") {
		t.Errorf("demo settle against a server without the demo data: %v", err)
	}
	if err := runDemo(context.Background(), []string{"dance"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "unknown step") {
		t.Errorf("demo dance: %v", err)
	}
}

// TestDemoContributionData checks the demo's contribution figures (seed
// 003_2c15e5659699e386.txt, Huaibei 2024) as PutPolicy reads them, and
// what each demo resident of 610300 owes for 2026 with the identities
// held on January 1 and on June 1 (W1–W5 hold dated identities).
func TestDemoContributionData(t *testing.T) {
	raw, err := examples.FS.ReadFile("policies/610300-resident-2026.1.json")
	must(t, err)
	policy, err := api.ParsePolicyJSON(raw)
	must(t, err)
	want := &engine.Contribution{Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{
		{Category: engine.CategoryDestitute, Full: true},
		{Category: engine.CategoryMinimumLiving, Amount: engine.MustMoney("340")},
		{Category: engine.CategoryMonitored, Amount: engine.MustMoney("190")},
	}}
	if !reflect.DeepEqual(policy.Contribution, want) {
		t.Fatalf("contribution %+v, want %+v", policy.Contribution, want)
	}
	raw, err = examples.FS.ReadFile("demo/registry.json")
	must(t, err)
	var doc struct {
		Persons []json.RawMessage `json:"persons"`
	}
	must(t, json.Unmarshal(raw, &doc))
	jan := engine.Date{Year: 2026, Month: time.January, Day: 1}
	jun := engine.Date{Year: 2026, Month: time.June, Day: 1}
	var got []string
	for _, r := range doc.Persons {
		p, err := api.ParsePersonJSON(r)
		must(t, err)
		if p.Region != "610300" || p.Scheme != engine.SchemeResident {
			continue
		}
		a, b := policy.Contribution.Quote(p, jan), policy.Contribution.Quote(p, jun)
		got = append(got, fmt.Sprintf("%s %s %s %s | %s %s %s", p.ID, a.Subsidy, a.Payable, catName(a.Basis), b.Subsidy, b.Payable, catName(b.Basis)))
	}
	wantRows := []string{
		"K1 0.00 380.00 UNSPECIFIED | 0.00 380.00 UNSPECIFIED",
		"L1 340.00 40.00 MINIMUM_LIVING | 340.00 40.00 MINIMUM_LIVING",
		"M1 190.00 190.00 MONITORED | 190.00 190.00 MONITORED",
		"N1 0.00 380.00 UNSPECIFIED | 0.00 380.00 UNSPECIFIED",
		"T1 380.00 0.00 DESTITUTE | 380.00 0.00 DESTITUTE",
		"W1 340.00 40.00 MINIMUM_LIVING | 340.00 40.00 MINIMUM_LIVING", // both 低保 and 监测: the larger subsidy, once
		"W2 0.00 380.00 UNSPECIFIED | 380.00 0.00 DESTITUTE",           // 特困 from May to August
		"W3 190.00 190.00 MONITORED | 340.00 40.00 MINIMUM_LIVING",     // 监测 until March, 低保 from April
		"W4 0.00 380.00 UNSPECIFIED | 0.00 380.00 UNSPECIFIED",         // 脱贫: no subsidy in seed 003
		"W5 0.00 380.00 UNSPECIFIED | 0.00 380.00 UNSPECIFIED",         // 低保 ended in 2025
	}
	if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("quotes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
}

// catName is a category's short name.
func catName(c engine.Category) string { return strings.TrimPrefix(c.String(), "PERSON_CATEGORY_") }
