package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const receiptUsage = `Usage:
  medsettle receipt --settlement ID [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]

Prints the settlement slip (结算单) of one settlement: the claim (institution,
person, visit type, date and the split of the bill), each fund's part with its
bands (band, ratio, base, amount), what the person pays (account, cash), the
cross-region decision and the institution's budget state, with the claim's
line items as they were settled.
`

// runReceipt is `medsettle receipt --settlement ID`.
func runReceipt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f connFlags
	var id string
	fs := flag.NewFlagSet("receipt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, receiptUsage); fs.PrintDefaults() }
	f.register(fs, "admin, clearing or the settlement's institution")
	fs.StringVar(&id, "settlement", "", "the settlement id (Settle's settlement_id)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("receipt takes flags only; unexpected %q", fs.Args())
	}
	if strings.TrimSpace(id) == "" {
		fmt.Fprint(stderr, receiptUsage)
		return errors.New("receipt needs --settlement ID: the settlement_id that Settle answered")
	}
	conn, ctx, err := f.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := pb.NewSettlementServiceClient(conn).GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: id})
	if err != nil {
		return explainRPC(err, "GetSettlement "+id, f.addr)
	}
	printReceipt(stdout, resp.GetSettlement())
	return nil
}

// enumWord is an enum's name without its prefix, in lower case
// ("VISIT_TYPE_INPATIENT" → "inpatient"), or "-" when unspecified.
func enumWord(name, prefix string) string {
	w := strings.TrimPrefix(name, prefix)
	if w == "UNSPECIFIED" || w == "" {
		return "-"
	}
	return strings.ToLower(strings.ReplaceAll(w, "_", " "))
}

// fundNames are the funds' names on the slip.
var fundNames = map[pb.Fund]string{
	pb.Fund_FUND_BASIC:        "basic fund (统筹基金)",
	pb.Fund_FUND_CATASTROPHIC: "catastrophic insurance (大病保险)",
	pb.Fund_FUND_MEDICAL_AID:  "medical aid (医疗救助)",
	pb.Fund_FUND_AID_CEILING:  "medical aid ceiling (救助封顶)",
}

// fundTotals are the breakdown fields that total each fund's part.
var fundTotals = map[pb.Fund]func(*pb.Breakdown) string{
	pb.Fund_FUND_BASIC:        (*pb.Breakdown).GetBasicFund,
	pb.Fund_FUND_CATASTROPHIC: (*pb.Breakdown).GetCatastrophic,
	pb.Fund_FUND_MEDICAL_AID:  (*pb.Breakdown).GetMedicalAid,
}

// printReceipt writes the settlement slip of s.
func printReceipt(w io.Writer, s *pb.Settlement) {
	b := s.GetBreakdown()
	dash := func(v string) string { return firstNonEmpty(v, "-") }
	fmt.Fprintf(w, "结算单 settlement slip %s (%s)\n", s.GetSettlementId(), enumWord(s.GetState().String(), "SETTLEMENT_STATE_"))
	if r := s.GetReversalReason(); r != "" {
		fmt.Fprintf(w, "  reversed: %s\n", r)
	}
	fmt.Fprintln(w, "\nClaim")
	writeFields(w, [][2]string{
		{"institution", s.GetInstitutionId()},
		{"person", s.GetPersonId()},
		{"visit type", enumWord(s.GetVisitType().String(), "VISIT_TYPE_")},
		{"date", s.GetSettleDate()},
		{"request id", dash(s.GetRequestId())},
		{"policy version", dash(s.GetPolicyVersion())},
		{"DRG group", dash(s.GetDrgCode())},
	})
	if items := s.GetItems(); len(items) > 0 {
		fmt.Fprintln(w, "\nLine items")
		rows := make([][]string, len(items))
		for i, it := range items {
			rows[i] = []string{it.GetCode(), it.GetName(), it.GetQuantity(), it.GetUnitPrice(), it.GetAmount()}
		}
		writeTable(w, []string{"code", "name", "quantity", "unit price", "amount"}, rows)
	}
	fmt.Fprintln(w, "\nThe bill's split")
	writeFields(w, [][2]string{
		{"total", dash(b.GetTotal())},
		{"out of scope", dash(b.GetOutOfScope())},
		{"over the price limit", dash(b.GetOverLimit())},
		{"pre-paid share", dash(b.GetPreSelfPay())},
		{"in scope", dash(b.GetInScope())},
		{"deductible", dash(b.GetDeductible())},
	})
	fmt.Fprintln(w, "\nFunds")
	var order []pb.Fund
	bands := map[pb.Fund][][]string{}
	for _, d := range s.GetDetails() {
		if _, ok := bands[d.GetFund()]; !ok {
			order = append(order, d.GetFund())
		}
		bands[d.GetFund()] = append(bands[d.GetFund()], []string{fmt.Sprint(d.GetBand() + 1), d.GetRatio(), d.GetBase(), d.GetAmount()})
	}
	for _, f := range []pb.Fund{pb.Fund_FUND_BASIC, pb.Fund_FUND_CATASTROPHIC, pb.Fund_FUND_MEDICAL_AID} {
		if _, ok := bands[f]; !ok && nonZeroMoney(fundTotals[f](b)) {
			order = append(order, f)
		}
	}
	if len(order) == 0 {
		fmt.Fprintln(w, "  no fund pays")
	}
	for _, f := range order {
		name := firstNonEmpty(fundNames[f], enumWord(f.String(), "FUND_"))
		if total, ok := fundTotals[f]; ok {
			fmt.Fprintf(w, "  %s: %s\n", name, dash(total(b)))
		} else {
			fmt.Fprintf(w, "  %s\n", name)
		}
		if rows := bands[f]; len(rows) > 0 {
			var sb strings.Builder
			writeTable(&sb, []string{"band", "ratio", "base", "amount"}, rows)
			fmt.Fprint(w, indent(sb.String(), "    "))
		}
	}
	if nonZeroMoney(b.GetOverCap()) {
		fmt.Fprintf(w, "  over the basic fund's cap: %s\n", b.GetOverCap())
	}
	fmt.Fprintf(w, "  funds in all: %s\n", dash(b.GetFundTotal()))
	fmt.Fprintln(w, "\nThe person pays")
	writeFields(w, [][2]string{
		{"in all", dash(b.GetPersonalTotal())},
		{"from the personal account", dash(b.GetAccount())},
		{"in cash", dash(b.GetCash())},
	})
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Cross-region: %s\n", crossRegionText(s.GetCrossRegion()))
	if bs := s.GetBudget(); bs != nil {
		fmt.Fprintf(w, "Budget %d: %s used of %s (%s)\n", bs.GetYear(), bs.GetUsed(), bs.GetLimit(), enumWord(bs.GetState().String(), "BUDGET_STATE_"))
	} else {
		fmt.Fprintln(w, "Budget: the institution has no budget for the year")
	}
}

// crossRegionText says what the server decided about where the person is
// insured.
func crossRegionText(c pb.CrossRegion) string {
	switch c {
	case pb.CrossRegion_CROSS_REGION_LOCAL:
		return "local (insured in the institution's region)"
	case pb.CrossRegion_CROSS_REGION_REGISTERED:
		return "registered (异地就医 with a filing)"
	case pb.CrossRegion_CROSS_REGION_UNREGISTERED:
		return "unregistered (异地就医 without a filing)"
	}
	return "-"
}

// indent prefixes every line of s with prefix.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var sb strings.Builder
	for _, l := range lines {
		if l != "" {
			sb.WriteString(prefix + l)
		}
	}
	return sb.String()
}

// nonZeroMoney reports whether s is a money amount other than zero.
func nonZeroMoney(s string) bool { return s != "" && !isZeroMoney(s) }

// writeFields writes name/value pairs, the values aligned, indented by two.
func writeFields(w io.Writer, fields [][2]string) {
	width := 0
	for _, f := range fields {
		width = max(width, len([]rune(f[0])))
	}
	for _, f := range fields {
		fmt.Fprintf(w, "  %s%s  %s\n", f[0], strings.Repeat(" ", width-len([]rune(f[0]))), f[1])
	}
}
