package api

import (
	"sort"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// claimFromProto checks and maps a SettleRequest. Returns a
// *engine.ValidationError naming every bad field, with the claim as far as
// it could be read (fields that did not parse are zero; items whose
// numbers did not parse carry placeholders) so that the policy checks can
// still report on the rest.
func claimFromProto(in *pb.SettleRequest) (engine.Claim, error) {
	var p parser
	p.enum("visit_type", int32(in.GetVisitType()), pb.VisitType_name)
	p.enum("cross_region", int32(in.GetCrossRegion()), pb.CrossRegion_name)
	c := engine.Claim{
		RequestID:          in.GetRequestId(),
		InstitutionID:      in.GetInstitutionId(),
		PersonID:           in.GetPersonId(),
		VisitType:          engine.VisitType(in.GetVisitType()),
		SettleDate:         p.date("settle_date", in.GetSettleDate()),
		CrossRegion:        engine.CrossRegion(in.GetCrossRegion()),
		DRGCode:            in.GetDrgCode(),
		UsePersonalAccount: in.GetUsePersonalAccount(),
	}
	items := in.GetItems()
	if len(items) > engine.MaxItems {
		p.v.Addf("items", "has %d line items; at most %d are allowed", len(items), engine.MaxItems)
		items = nil
	}
	if len(items) > 0 {
		c.Items = make([]engine.LineItem, 0, len(items))
	}
	for i, it := range items {
		// The paths' text is built only for a violation (engine.FieldPath).
		q, qOK := p.quantityAt(engine.IndexPath("items", i, "quantity"), it.GetQuantity())
		price, priceOK := p.priceAt(engine.IndexPath("items", i, "unit_price"), it.GetUnitPrice())
		before := p.v.Len()
		amount := p.moneyAt(engine.IndexPath("items", i, "amount"), it.GetAmount())
		li := engine.LineItem{Code: it.GetCode(), Name: it.GetName(), Quantity: q, UnitPrice: price, Amount: amount}
		if !qOK || !priceOK || p.v.Len() > before {
			// A number is unreadable or out of range: the arithmetic is
			// not checked, and ValidateClaim must not report the item again.
			li.Quantity, li.UnitPrice, li.Amount = placeholderQuantity, placeholderPrice, placeholderAmount
		}
		c.Items = append(c.Items, li)
	}
	if err := engine.ValidateClaim(c); err != nil {
		p.v.MergeNew(err)
	}
	return c, p.v.Err()
}

// The placeholders stand in for the numbers of an item that did not parse:
// 1 × 1 = 1 passes the arithmetic check, so each problem is reported once.
var (
	placeholderQuantity = engine.QuantityOf(1)
	placeholderPrice    = engine.MustPrice("1")
	placeholderAmount   = engine.Yuan(1)
)

// itemsToProto renders a claim's line items as they were settled.
func itemsToProto(items []engine.LineItem) []*pb.LineItem {
	out := make([]*pb.LineItem, len(items))
	for i, it := range items {
		out[i] = &pb.LineItem{Code: it.Code, Name: it.Name, Quantity: it.Quantity.String(),
			UnitPrice: it.UnitPrice.String(), Amount: engine.FormatMoney(it.Amount)}
	}
	return out
}

// settlementParts are the messages of a settlement's answer, allocated
// together: one allocation where there were four.
type settlementParts struct {
	resp pb.SettleResponse
	s    pb.Settlement
	bd   pb.Breakdown
	bs   pb.BudgetStatus
}

// settleResponse is the answer of PreSettle and Settle for s.
func settleResponse(s engine.Settlement) *pb.SettleResponse {
	p := &settlementParts{}
	p.fill(s)
	p.resp.Settlement = &p.s
	return &p.resp
}

func settlementToProto(s engine.Settlement) *pb.Settlement {
	p := &settlementParts{}
	p.fill(s)
	return &p.s
}

// fill sets p.s (with p.bd and, when s has a budget, p.bs) to s: its
// texts (amounts, ratios, the settle date) rendered into one string.
func (p *settlementParts) fill(s engine.Settlement) {
	c, r, b := &s.Claim, &s.Result, &s.Result.Breakdown
	bd := &p.bd
	out := &p.s
	out.SettlementId = s.ID
	out.RequestId = c.RequestID
	out.InstitutionId = c.InstitutionID
	out.PersonId = c.PersonID
	out.VisitType = pb.VisitType(c.VisitType)
	out.PolicyVersion = r.PolicyVersion
	out.State = pb.SettlementState(s.State)
	out.CrossRegion = crossRegionToProto(c.CrossRegion)
	out.DrgCode = c.DRGCode
	out.ReversalReason = s.ReversalReason
	out.Breakdown = bd
	// The amounts share one string (money_text.go).
	var mt moneyTexts
	mt.addDate(&out.SettleDate, c.SettleDate)
	mt.add(&bd.Total, b.Total)
	mt.add(&bd.OutOfScope, b.OutOfScope)
	mt.add(&bd.OverLimit, b.OverLimit)
	mt.add(&bd.PreSelfPay, b.PreSelfPay)
	mt.add(&bd.InScope, b.InScope)
	mt.add(&bd.Deductible, b.Deductible)
	mt.add(&bd.BasicFund, b.BasicFund)
	mt.add(&bd.OverCap, b.OverCap)
	mt.add(&bd.Catastrophic, b.Catastrophic)
	mt.add(&bd.MedicalAid, b.MedicalAid)
	mt.add(&bd.FundTotal, b.FundTotal)
	mt.add(&bd.PersonalTotal, b.PersonalTotal)
	mt.add(&bd.Account, b.Account)
	mt.add(&bd.Cash, b.Cash)
	if len(r.Details) > 0 {
		out.Details = make([]*pb.FundDetail, len(r.Details))
		// One allocation for the details themselves, too.
		details := make([]pb.FundDetail, len(r.Details))
		for i, d := range r.Details {
			fd := &details[i]
			fd.Fund, fd.Band = pb.Fund(d.Fund), int32(d.Band)
			mt.addRatio(&fd.Ratio, d.Ratio)
			mt.add(&fd.Base, d.Base)
			mt.add(&fd.Amount, d.Amount)
			out.Details[i] = fd
		}
	}
	if bs := r.Budget; bs != nil {
		out.Budget = &p.bs
		out.Budget.Year, out.Budget.State = int32(bs.Year), pb.BudgetState(bs.State)
		mt.add(&out.Budget.Limit, bs.Limit)
		mt.add(&out.Budget.Used, bs.Used)
	}
	mt.flush()
}

func accumulatorsToProto(a engine.Accumulators, balance string) *pb.Accumulators {
	out := &pb.Accumulators{
		PersonId:         a.PersonID,
		Year:             int32(a.Year),
		InpatientCount:   int32(a.InpatientCount),
		PoolUsed:         map[string]string{},
		CatastrophicBase: engine.FormatMoney(a.CatastrophicBase),
		CatastrophicPaid: engine.FormatMoney(a.CatastrophicPaid),
		AidBase:          engine.FormatMoney(a.AidBase),
		AidPaid:          engine.FormatMoney(a.AidPaid),
		AidOutOfPocket:   engine.FormatMoney(a.AidOutOfPocket),
		AccountBalance:   balance,
	}
	vts := make([]engine.VisitType, 0, len(a.VisitTypes))
	for v := range a.VisitTypes {
		vts = append(vts, v)
	}
	sort.Slice(vts, func(i, j int) bool { return vts[i] < vts[j] })
	for _, v := range vts {
		va := a.VisitTypes[v]
		out.VisitTypes = append(out.VisitTypes, &pb.VisitTypeAccumulator{
			VisitType: pb.VisitType(v), InScope: engine.FormatMoney(va.InScope), DeductiblePaid: engine.FormatMoney(va.DeductiblePaid),
		})
	}
	for _, name := range a.PoolNames() {
		out.PoolUsed[name] = engine.FormatMoney(a.Pool(name))
	}
	return out
}

// crossRegionToProto is a recorded claim's cross_region as the server
// decided it. Settlements recorded before the server decided kept the
// request's value, where unspecified meant (and was settled as) LOCAL.
func crossRegionToProto(c engine.CrossRegion) pb.CrossRegion {
	if c == engine.CrossRegionUnspecified {
		return pb.CrossRegion_CROSS_REGION_LOCAL
	}
	return pb.CrossRegion(c)
}
