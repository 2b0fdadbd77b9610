package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// summaryColumns is the header of summary.csv: one row, every figure of
// the summary; the ones that do not apply to the run's kind are empty.
var summaryColumns = []string{
	"run_id", "kind", "region", "scheme", "year", "period_from", "period_to", "final",
	"settlements", "ungrouped", "ungrouped_basic_fund", "budget", "personal_total",
	"total_points", "point_value", "paid_total",
	"contract_id", "members", "actual", "surplus", "deficit", "fund_covers", "contract_bears",
}

// statementColumns is the header of statements.csv (DRG runs).
var statementColumns = []string{
	"institution_id", "settlement_id", "request_id", "settle_date", "drg_code", "total",
	"ratio", "cost_kind", "points", "personal_total", "basic_fund",
}

// writeCSVReport writes summary.csv and institutions.csv into dir, and
// shares.csv and components.csv for a capitation run (a DRG run's
// statements.csv is written by statementsWriter as the pages come). It
// returns the paths written.
func writeCSVReport(dir string, s *pb.ClearingSummary) ([]string, error) {
	var written []string
	write := func(name string, rows [][]string) error {
		path := filepath.Join(dir, name)
		if err := writeCSVFile(path, rows); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	c := s.GetCapitation()
	var members string
	if s.GetKind() == pb.ClearingKind_CLEARING_KIND_CAPITATION {
		members = strconv.FormatInt(c.GetMembers(), 10)
	}
	var ungrouped string
	if s.GetKind() == pb.ClearingKind_CLEARING_KIND_DRG {
		ungrouped = strconv.FormatInt(s.GetUngrouped(), 10)
	}
	year := ""
	if s.GetYear() != 0 {
		year = strconv.Itoa(int(s.GetYear()))
	}
	summary := [][]string{summaryColumns, {
		s.GetRunId(), kindWord(s.GetKind()), s.GetRegion(), schemeWord(s.GetScheme()), year,
		s.GetPeriodFrom(), s.GetPeriodTo(), strconv.FormatBool(s.GetFinal()),
		strconv.FormatInt(s.GetSettlements(), 10), ungrouped, s.GetUngroupedBasicFund(), s.GetBudget(), s.GetPersonalTotal(),
		s.GetTotalPoints(), s.GetPointValue(), s.GetPaidTotal(),
		firstNonEmpty(s.GetContractId(), c.GetContractId()), members, c.GetActual(), c.GetSurplus(), c.GetDeficit(), c.GetFundCovers(), c.GetContractBears(),
	}}
	if err := write("summary.csv", summary); err != nil {
		return written, err
	}

	var inst [][]string
	switch s.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_DRG:
		inst = append(inst, []string{"institution_id", "cases", "points", "personal_total", "basic_fund", "payment", "difference"})
		for _, in := range s.GetInstitutions() {
			inst = append(inst, []string{in.GetInstitutionId(), strconv.FormatInt(in.GetCases(), 10), in.GetPoints(),
				in.GetPersonalTotal(), in.GetBasicFund(), in.GetPayment(), in.GetDifference()})
		}
	default:
		inst = append(inst, []string{"institution_id", "cases", "budget", "claimed", "retained", "shared", "paid"})
		for _, in := range s.GetInstitutions() {
			inst = append(inst, []string{in.GetInstitutionId(), strconv.FormatInt(in.GetCases(), 10), in.GetBudget(),
				in.GetClaimed(), in.GetRetained(), in.GetShared(), in.GetPaid()})
		}
	}
	if err := write("institutions.csv", inst); err != nil {
		return written, err
	}

	switch s.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_CAPITATION:
		shares := [][]string{{"party", "amount"}}
		for _, sh := range c.GetShares() {
			shares = append(shares, []string{sh.GetParty(), sh.GetAmount()})
		}
		comps := [][]string{{"component", "budget", "actual"}}
		for _, cp := range c.GetComponents() {
			comps = append(comps, []string{cp.GetName(), cp.GetBudget(), cp.GetActual()})
		}
		if err := write("shares.csv", shares); err != nil {
			return written, err
		}
		if err := write("components.csv", comps); err != nil {
			return written, err
		}
	}
	return written, nil
}

// statementsWriter writes statements.csv: a DRG run's cases, institution
// by institution, a page at a time as GetStatement gives them.
type statementsWriter struct {
	path string
	f    *os.File
	w    *csv.Writer
}

func newStatementsWriter(path string) (*statementsWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(f)
	if err := w.Write(statementColumns); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &statementsWriter{path: path, f: f, w: w}, nil
}

// write appends one page of an institution's cases.
func (s *statementsWriter) write(institutionID string, page []*pb.StatementCase) error {
	for _, k := range page {
		if err := s.w.Write([]string{institutionID, k.GetSettlementId(), k.GetRequestId(), k.GetSettleDate(), k.GetDrgCode(),
			k.GetTotal(), k.GetRatio(), costKindWord(k.GetCostKind()), k.GetPoints(), k.GetPersonalTotal(), k.GetBasicFund()}); err != nil {
			return fmt.Errorf("write %s: %w", s.path, err)
		}
	}
	return nil
}

// close flushes and closes the file.
func (s *statementsWriter) close() error {
	s.w.Flush()
	err := s.w.Error()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

// writeCSVFile writes rows to path (replacing it) and reports any write error.
func writeCSVFile(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
