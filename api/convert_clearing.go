package api

import (
	"fmt"
	"strings"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// ratioFixed renders a DRG case's cost ratio r = round(c / a, 4) with
// exactly four decimals ("1.2000"), as points (engine.Points.StringFixed)
// and the point value (six) are reported.
func ratioFixed(r engine.Ratio) string {
	s := r.String()
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return s + ".0000"
	}
	return s + "0000"[:4-(len(s)-dot-1)]
}

// Which fields of a summary and of its institution lines apply to a kind
// of run is decided here and only here (CLEARING.md: what does not apply is
// an empty string, money that applies always has two decimals): one
// function per kind fills what applies to it and nothing else. The summary,
// its lines and the statement lines all go through them.
//
//   - DRG: ungrouped, ungrouped_basic_fund, budget (B), personal_total (P),
//     total_points, point_value, paid_total; lines cases, points,
//     personal_total, basic_fund, payment, difference.
//   - BUDGET: budget (Σ G), paid_total; lines cases, budget, claimed,
//     retained, shared, paid.
//   - CAPITATION: contract_id, budget (K), paid_total, capitation; no lines.
var kindFields = map[engine.ClearingKind]struct {
	summary func(out *pb.ClearingSummary, r engine.ClearingRun)
	line    func(l engine.ClearingLine) *pb.InstitutionClearing
}{
	engine.ClearingDRG:        {summary: drgSummary, line: drgLine},
	engine.ClearingBudget:     {summary: budgetSummary, line: budgetLine},
	engine.ClearingCapitation: {summary: capitationSummary, line: noLine},
}

// summaryToProto maps a stored run to its summary.
func summaryToProto(r engine.ClearingRun) *pb.ClearingSummary {
	out := &pb.ClearingSummary{
		RunId:       r.RunID,
		Kind:        pb.ClearingKind(r.Kind),
		Region:      r.Region,
		Scheme:      pb.Scheme(r.Scheme),
		Year:        int32(r.Year),
		PeriodFrom:  r.From.String(),
		PeriodTo:    r.To.String(),
		Final:       r.Final,
		Settlements: r.Settlements,
	}
	if f, ok := kindFields[r.Kind]; ok {
		f.summary(out, r)
		for _, l := range r.Institutions {
			if pl := f.line(l); pl != nil {
				out.Institutions = append(out.Institutions, pl)
			}
		}
	}
	return out
}

// lineToProto maps one institution line of a run of kind k.
func lineToProto(k engine.ClearingKind, l engine.ClearingLine) *pb.InstitutionClearing {
	if f, ok := kindFields[k]; ok {
		return f.line(l)
	}
	return nil
}

func drgSummary(out *pb.ClearingSummary, r engine.ClearingRun) {
	out.Ungrouped = r.Ungrouped
	out.UngroupedBasicFund = engine.FormatMoney(r.UngroupedBasicFund)
	out.Budget = engine.FormatMoney(r.Budget)
	out.PersonalTotal = engine.FormatMoney(r.PersonalTotal)
	// T = 0 (no grouped case) reads "0.0000" and "0.000000".
	out.TotalPoints = r.TotalPoints.StringFixed()
	out.PointValue = r.PointValue.StringFixed()
	out.PaidTotal = engine.FormatMoney(r.PaidTotal)
}

func drgLine(l engine.ClearingLine) *pb.InstitutionClearing {
	return &pb.InstitutionClearing{
		InstitutionId: l.InstitutionID,
		Cases:         l.Cases,
		Points:        l.Points.StringFixed(),
		PersonalTotal: engine.FormatMoney(l.PersonalTotal),
		BasicFund:     engine.FormatMoney(l.BasicFund),
		Payment:       engine.FormatMoney(l.Payment),
		Difference:    engine.FormatMoney(l.Difference),
	}
}

func budgetSummary(out *pb.ClearingSummary, r engine.ClearingRun) {
	out.Budget = engine.FormatMoney(r.Budget)
	out.PaidTotal = engine.FormatMoney(r.PaidTotal)
}

func budgetLine(l engine.ClearingLine) *pb.InstitutionClearing {
	return &pb.InstitutionClearing{
		InstitutionId: l.InstitutionID,
		Cases:         l.Cases,
		Budget:        engine.FormatMoney(l.Budget),
		Claimed:       engine.FormatMoney(l.Claimed),
		Retained:      engine.FormatMoney(l.Retained),
		Shared:        engine.FormatMoney(l.Shared),
		Paid:          engine.FormatMoney(l.Paid),
	}
}

func capitationSummary(out *pb.ClearingSummary, r engine.ClearingRun) {
	out.ContractId = r.ContractID
	out.Budget = engine.FormatMoney(r.Budget)
	out.PaidTotal = engine.FormatMoney(r.PaidTotal)
	if c := r.Capitation; c != nil {
		out.Capitation = capitationToProto(c)
	}
}

// noLine: capitation runs have no institution lines.
func noLine(engine.ClearingLine) *pb.InstitutionClearing { return nil }

func capitationToProto(c *engine.CapitationClearing) *pb.CapitationClearing {
	out := &pb.CapitationClearing{
		ContractId:    c.ContractID,
		Members:       c.Members,
		Budget:        engine.FormatMoney(c.Budget),
		Actual:        engine.FormatMoney(c.Actual),
		Surplus:       engine.FormatMoney(c.Surplus),
		Deficit:       engine.FormatMoney(c.Deficit),
		FundCovers:    engine.FormatMoney(c.FundCovers),
		ContractBears: engine.FormatMoney(c.ContractBears),
	}
	for _, s := range c.Shares {
		out.Shares = append(out.Shares, &pb.PartyAmount{Party: s.Party, Amount: engine.FormatMoney(s.Amount)})
	}
	for _, k := range c.Components {
		out.Components = append(out.Components, &pb.ComponentClearing{Name: k.Name, Budget: engine.FormatMoney(k.Budget), Actual: engine.FormatMoney(k.Actual)})
	}
	return out
}

func caseLineToProto(c engine.CaseLine) *pb.StatementCase {
	return &pb.StatementCase{
		SettlementId:  c.SettlementID,
		RequestId:     c.RequestID,
		SettleDate:    c.SettleDate.String(),
		DrgCode:       c.DRGCode,
		Total:         engine.FormatMoney(c.Total),
		Ratio:         ratioFixed(c.Ratio),
		CostKind:      pb.CostKind(c.Kind),
		Points:        c.Points.StringFixed(),
		PersonalTotal: engine.FormatMoney(c.PersonalTotal),
		BasicFund:     engine.FormatMoney(c.BasicFund),
	}
}

// contract checks and maps a capitation contract; problems go to p.v under
// path. members is output only and ignored.
func (p *parser) contract(path string, in *pb.CapitationContract) engine.CapitationContract {
	if in == nil {
		p.v.Addf(path, "is required")
		return engine.CapitationContract{}
	}
	out := engine.CapitationContract{
		ContractID:    in.GetContractId(),
		InstitutionID: in.GetInstitutionId(),
		Region:        in.GetRegion(),
		Scheme:        engine.Scheme(in.GetScheme()),
		Year:          int(in.GetYear()),
	}
	for i, c := range limitRows(p, path+".components", in.GetComponents()) {
		cp := fmt.Sprintf("%s.components[%d]", path, i)
		comp := engine.CapitationComponent{Name: c.GetName(), Rate: p.money(cp+".rate", c.GetRate())}
		// engine.ValidateContract checks the visit types themselves.
		for _, vt := range limitRows(p, cp+".visit_types", c.GetVisitTypes()) {
			comp.VisitTypes = append(comp.VisitTypes, engine.VisitType(vt))
		}
		out.Components = append(out.Components, comp)
	}
	for i, s := range limitRows(p, path+".shares", in.GetShares()) {
		out.Shares = append(out.Shares, engine.CapitationShare{
			Party: s.GetParty(),
			Share: p.ratio(fmt.Sprintf("%s.shares[%d].share", path, i), s.GetShare()),
		})
	}
	out.OverspendShare = p.ratioOrZero(path+".overspend_share", in.GetOverspendShare())
	out.OverspendTolerance = p.ratioOrZero(path+".overspend_tolerance", in.GetOverspendTolerance())
	return out
}

func contractToProto(c engine.CapitationContract) *pb.CapitationContract {
	out := &pb.CapitationContract{
		ContractId:         c.ContractID,
		InstitutionId:      c.InstitutionID,
		Region:             c.Region,
		Scheme:             pb.Scheme(c.Scheme),
		Year:               int32(c.Year),
		OverspendShare:     c.OverspendShare.String(),
		OverspendTolerance: c.OverspendTolerance.String(),
		Members:            c.Members,
	}
	for _, k := range c.Components {
		pc := &pb.CapitationComponent{Name: k.Name, Rate: engine.FormatMoney(k.Rate)}
		for _, vt := range k.VisitTypes {
			pc.VisitTypes = append(pc.VisitTypes, pb.VisitType(vt))
		}
		out.Components = append(out.Components, pc)
	}
	for _, s := range c.Shares {
		out.Shares = append(out.Shares, &pb.CapitationShare{Party: s.Party, Share: s.Share.String()})
	}
	return out
}

func reconcileToProto(r store.ReconcileResult, matched bool) *pb.ReconcileResponse {
	out := &pb.ReconcileResponse{
		Matched:   matched,
		Count:     r.Totals.Count,
		Total:     engine.FormatMoney(r.Totals.Total),
		FundTotal: engine.FormatMoney(r.Totals.FundTotal),
		Account:   engine.FormatMoney(r.Totals.Account),
	}
	if matched {
		return out
	}
	out.SettlementsTruncated = r.Truncated
	for _, s := range r.Settlements {
		out.Settlements = append(out.Settlements, &pb.ReconcileSettlement{
			SettlementId: s.SettlementID,
			RequestId:    s.RequestID,
			SettleDate:   s.SettleDate.String(),
			Total:        engine.FormatMoney(s.Total),
			FundTotal:    engine.FormatMoney(s.FundTotal),
			Account:      engine.FormatMoney(s.Account),
		})
	}
	return out
}

// visitTypes checks and maps a list of visit types (each one of the three).
func (p *parser) visitTypes(field string, in []pb.VisitType) []engine.VisitType {
	var out []engine.VisitType
	for i, vt := range limitRows(p, field, in) {
		if vt == pb.VisitType_VISIT_TYPE_UNSPECIFIED {
			p.v.Addf(fmt.Sprintf("%s[%d]", field, i), "must be a visit type, not unspecified")
			continue
		}
		p.enum(fmt.Sprintf("%s[%d]", field, i), int32(vt), pb.VisitType_name)
		out = append(out, engine.VisitType(vt))
	}
	return out
}

// optDate reads a date that may be left empty (the zero date).
func (p *parser) optDate(field, s string) engine.Date {
	if s == "" {
		return engine.Date{}
	}
	return p.date(field, s)
}

// positiveMoney reads money > 0 (at most two decimals).
func (p *parser) positiveMoney(field, s string) engine.Money {
	if s == "" {
		p.v.Addf(field, "is required: money > 0 with at most two decimals, like \"1000000.00\"")
		return engine.Money{}
	}
	before := p.v.Len()
	d := p.money(field, s)
	if p.v.Len() == before && !d.IsPositive() {
		p.v.Addf(field, "must be greater than 0, got %s", s)
	}
	return d
}
