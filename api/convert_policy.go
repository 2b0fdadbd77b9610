package api

import (
	"fmt"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// policyFromProto maps a whole policy document, recording every field it
// cannot read; ValidatePolicy then checks the rules between fields.
// Returns a *engine.ValidationError listing every problem.
func policyFromProto(in *pb.Policy) (*engine.Policy, error) {
	out, err := readPolicy(in)
	if err != nil {
		return nil, err
	}
	return out.Index(), nil
}

// readPolicy is policyFromProto without the index, returning the policy as
// far as it could be read along with the error, so that more checks can
// report on it. A field that did not parse is reported once.
func readPolicy(in *pb.Policy) (*engine.Policy, error) {
	var p parser
	out := p.policy("policy", in)
	if in != nil {
		p.v.MergeNew(engine.ValidatePolicy(out))
	}
	return out, p.v.Err()
}

func (p *parser) policy(path string, in *pb.Policy) *engine.Policy {
	if in == nil {
		p.v.Addf(path, "is required")
		return &engine.Policy{}
	}
	p.enum(path+".scheme", int32(in.GetScheme()), pb.Scheme_name)
	p.enum(path+".unknown_item", int32(in.GetUnknownItem()), pb.UnknownItem_name)
	out := &engine.Policy{
		Region:                  in.GetRegion(),
		Scheme:                  engine.Scheme(in.GetScheme()),
		Version:                 in.GetVersion(),
		EffectiveFrom:           p.date(path+".effective_from", in.GetEffectiveFrom()),
		EffectiveTo:             p.date(path+".effective_to", in.GetEffectiveTo()),
		UnknownItem:             engine.UnknownItem(in.GetUnknownItem()),
		UnregisteredRatioCut:    p.ratioOrZero(path+".unregistered_ratio_cut", in.GetUnregisteredRatioCut()),
		AccountCoversOutOfScope: in.GetAccountCoversOutOfScope(),
		BudgetWarnRatio:         p.optRatio(path+".budget_warn_ratio", in.GetBudgetWarnRatio()),
	}
	if len(in.GetCatalog()) <= engine.MaxCatalog {
		out.Catalog = make([]engine.CatalogEntry, 0, len(in.GetCatalog()))
		// Up to MaxCatalog entries: their paths are built only for a
		// violation (engine.FieldPath).
		catalog := path + ".catalog"
		for i, e := range in.GetCatalog() {
			out.Catalog = append(out.Catalog, p.catalogEntry(engine.IndexPath(catalog, i, ""), e))
		}
	} else {
		p.v.Addf(path+".catalog", "has %d entries; at most %d are allowed", len(in.GetCatalog()), engine.MaxCatalog)
	}
	for i, b := range limitRows(p, path+".benefits", in.GetBenefits()) {
		out.Benefits = append(out.Benefits, p.benefit(fmt.Sprintf("%s.benefits[%d]", path, i), b))
	}
	for i, cp := range limitRows(p, path+".cap_pools", in.GetCapPools()) {
		pp := fmt.Sprintf("%s.cap_pools[%d]", path, i)
		pool := engine.CapPool{Name: cp.GetName()}
		for j, r := range limitRows(p, pp+".rows", cp.GetRows()) {
			pool.Rows = append(pool.Rows, engine.CapPoolRow{
				MinYears: int(r.GetMinYears()),
				Amount:   p.money(fmt.Sprintf("%s.rows[%d].amount", pp, j), r.GetAmount()),
			})
		}
		out.CapPools = append(out.CapPools, pool)
	}
	if c := in.GetCatastrophic(); c != nil {
		cp := path + ".catastrophic"
		cat := &engine.Catastrophic{IncludePreSelfPay: c.GetIncludePreSelfPay()}
		for i, vt := range limitRows(p, cp+".visit_types", c.GetVisitTypes()) {
			p.enum(fmt.Sprintf("%s.visit_types[%d]", cp, i), int32(vt), pb.VisitType_name)
			cat.VisitTypes = append(cat.VisitTypes, engine.VisitType(vt))
		}
		for i, pc := range limitRows(p, cp+".special_categories", c.GetSpecialCategories()) {
			p.enum(fmt.Sprintf("%s.special_categories[%d]", cp, i), int32(pc), pb.PersonCategory_name)
			cat.SpecialCategories = append(cat.SpecialCategories, engine.Category(pc))
		}
		if c.GetNormal() == nil {
			p.v.Addf(cp+".normal", "is required when catastrophic insurance is configured")
		}
		cat.Normal = p.schedule(cp+".normal", c.GetNormal())
		if c.GetSpecial() != nil {
			s := p.schedule(cp+".special", c.GetSpecial())
			cat.Special = &s
		}
		out.Catastrophic = cat
	}
	for i, a := range limitRows(p, path+".medical_aid", in.GetMedicalAid()) {
		ap := fmt.Sprintf("%s.medical_aid[%d]", path, i)
		p.enum(ap+".category", int32(a.GetCategory()), pb.PersonCategory_name)
		out.MedicalAid = append(out.MedicalAid, engine.AidRule{
			Category:          engine.Category(a.GetCategory()),
			Schedule:          p.schedule(ap+".schedule", a.GetSchedule()),
			IncludePreSelfPay: a.GetIncludePreSelfPay(),
			OOPCeiling:        p.optMoney(ap+".oop_ceiling", a.GetOopCeiling()),
		})
	}
	if d := in.GetDrg(); d != nil {
		out.DRG = p.drg(path+".drg", d)
	}
	if bc := in.GetBudgetClearing(); bc != nil {
		bp := path + ".budget_clearing"
		c := &engine.BudgetClearing{
			SurplusRetention:   p.ratioOrZero(bp+".surplus_retention", bc.GetSurplusRetention()),
			MinUtilization:     p.ratioOrZero(bp+".min_utilization", bc.GetMinUtilization()),
			OverspendShare:     p.ratioOrZero(bp+".overspend_share", bc.GetOverspendShare()),
			OverspendTolerance: p.ratioOrZero(bp+".overspend_tolerance", bc.GetOverspendTolerance()),
		}
		for i, vt := range limitRows(p, bp+".visit_types", bc.GetVisitTypes()) {
			p.enum(fmt.Sprintf("%s.visit_types[%d]", bp, i), int32(vt), pb.VisitType_name)
			c.VisitTypes = append(c.VisitTypes, engine.VisitType(vt))
		}
		out.BudgetClearing = c
	}
	if c := in.GetContribution(); c != nil {
		out.Contribution = p.contribution(path+".contribution", c)
	}
	return out
}

// limitRows records a violation and returns nothing when a table is longer
// than engine.MaxRows.
func limitRows[T any](p *parser, field string, rows []T) []T {
	if len(rows) > engine.MaxRows {
		p.v.Addf(field, "has %d rows; at most %d are allowed", len(rows), engine.MaxRows)
		return nil
	}
	return rows
}

// catalogEntry reads the catalog entry at path (an element of the
// catalog, IndexPath(…, i, "")).
func (p *parser) catalogEntry(path engine.FieldPath, e *pb.CatalogEntry) engine.CatalogEntry {
	p.enumAt(path.With("category"), int32(e.GetCategory()), pb.ItemCategory_name)
	out := engine.CatalogEntry{Code: e.GetCode(), Category: engine.ItemCategory(e.GetCategory())}
	switch {
	case e.GetCategory() == pb.ItemCategory_ITEM_CATEGORY_B && e.GetSelfPayRatio() == "":
		p.v.AddAtf(path.With("self_pay_ratio"), "is required for a category B item")
	case e.GetSelfPayRatio() != "":
		out.SelfPayRatio = p.ratioAt(path.With("self_pay_ratio"), e.GetSelfPayRatio())
	}
	if e.GetPriceCap() != "" {
		if c, ok := p.priceAt(path.With("price_cap"), e.GetPriceCap()); ok {
			out.PriceCap = &c
		}
	}
	return out
}

func (p *parser) benefit(path string, b *pb.Benefit) engine.Benefit {
	p.enum(path+".visit_type", int32(b.GetVisitType()), pb.VisitType_name)
	p.enum(path+".accumulation", int32(b.GetAccumulation()), pb.Accumulation_name)
	out := engine.Benefit{
		VisitType:    engine.VisitType(b.GetVisitType()),
		Accumulation: engine.Accumulation(b.GetAccumulation()),
		CapPool:      b.GetCapPool(),
	}
	for i, d := range limitRows(p, path+".deductibles", b.GetDeductibles()) {
		dp := fmt.Sprintf("%s.deductibles[%d]", path, i)
		row := engine.DeductibleRow{Level: int(d.GetLevel())}
		for j, a := range limitRows(p, dp+".amounts", d.GetAmounts()) {
			row.Amounts = append(row.Amounts, p.money(fmt.Sprintf("%s.amounts[%d]", dp, j), a))
		}
		out.Deductibles = append(out.Deductibles, row)
	}
	for i, r := range limitRows(p, path+".rates", b.GetRates()) {
		rp := fmt.Sprintf("%s.rates[%d]", path, i)
		p.enum(rp+".employment", int32(r.GetEmployment()), pb.Employment_name)
		if r.GetSchedule() == nil {
			p.v.Addf(rp+".schedule", "is required")
		}
		out.Rates = append(out.Rates, engine.RateRow{
			Level:      int(r.GetLevel()),
			Employment: engine.Employment(r.GetEmployment()),
			Schedule:   p.schedule(rp+".schedule", r.GetSchedule()),
		})
	}
	return out
}

func (p *parser) schedule(path string, s *pb.Schedule) engine.Schedule {
	var out engine.Schedule
	if len(s.GetBands()) > engine.MaxBands {
		p.v.Addf(path+".bands", "has %d bands; at most %d are allowed", len(s.GetBands()), engine.MaxBands)
		return out
	}
	for i, b := range s.GetBands() {
		bp := fmt.Sprintf("%s.bands[%d]", path, i)
		out.Bands = append(out.Bands, engine.Band{
			UpTo:  p.optMoney(bp+".up_to", b.GetUpTo()),
			Ratio: p.ratio(bp+".ratio", b.GetRatio()),
		})
	}
	out.AnnualCap = p.optMoney(path+".annual_cap", s.GetAnnualCap())
	return out
}

func (p *parser) drg(path string, d *pb.Drg) *engine.DRG {
	p.enum(path+".point_value_basis", int32(d.GetPointValueBasis()), pb.PointValueBasis_name)
	out := &engine.DRG{
		LowRatio:        p.ratioOrZero(path+".low_ratio", d.GetLowRatio()),
		ReserveRatio:    p.ratioOrZero(path+".reserve_ratio", d.GetReserveRatio()),
		PointValueBasis: engine.PointValueBasis(d.GetPointValueBasis()),
	}
	if len(d.GetGroups()) > engine.MaxCatalog {
		p.v.Addf(path+".groups", "has %d groups; at most %d are allowed", len(d.GetGroups()), engine.MaxCatalog)
	} else {
		// Up to MaxCatalog groups: their paths are built only for a
		// violation.
		groups := path + ".groups"
		for i, g := range d.GetGroups() {
			out.Groups = append(out.Groups, engine.DRGGroup{
				Code:        g.GetCode(),
				BasePoints:  p.positivePointsAt(engine.IndexPath(groups, i, "base_points"), g.GetBasePoints()),
				AverageCost: p.moneyAt(engine.IndexPath(groups, i, "average_cost"), g.GetAverageCost()),
			})
		}
	}
	for i, c := range limitRows(p, path+".coefficients", d.GetCoefficients()) {
		out.Coefficients = append(out.Coefficients, engine.DRGCoefficient{
			InstitutionID: c.GetInstitutionId(),
			Level:         int(c.GetLevel()),
			Coefficient:   p.positiveFactor(fmt.Sprintf("%s.coefficients[%d].coefficient", path, i), c.GetCoefficient()),
		})
	}
	for i, h := range limitRows(p, path+".high_thresholds", d.GetHighThresholds()) {
		hp := fmt.Sprintf("%s.high_thresholds[%d]", path, i)
		row := engine.DRGHighThreshold{Ratio: p.positiveFactor(hp+".ratio", h.GetRatio())}
		if h.GetUpToPoints() != "" {
			v := p.positivePointsAt(engine.Path(hp+".up_to_points"), h.GetUpToPoints())
			row.UpToPoints = &v
		}
		out.HighThresholds = append(out.HighThresholds, row)
	}
	return out
}

func policyToProto(in *engine.Policy) *pb.Policy {
	out := &pb.Policy{
		Region:                  in.Region,
		Scheme:                  pb.Scheme(in.Scheme),
		Version:                 in.Version,
		EffectiveFrom:           in.EffectiveFrom.String(),
		EffectiveTo:             in.EffectiveTo.String(),
		UnknownItem:             pb.UnknownItem(in.UnknownItem),
		UnregisteredRatioCut:    in.UnregisteredRatioCut.String(),
		AccountCoversOutOfScope: in.AccountCoversOutOfScope,
		BudgetWarnRatio:         in.WarnRatio().String(),
	}
	for _, e := range in.Catalog {
		ce := &pb.CatalogEntry{Code: e.Code, Category: pb.ItemCategory(e.Category), PriceCap: optString(e.PriceCap)}
		if e.Category == engine.ItemB {
			ce.SelfPayRatio = e.SelfPayRatio.String()
		}
		out.Catalog = append(out.Catalog, ce)
	}
	for _, b := range in.Benefits {
		pbb := &pb.Benefit{VisitType: pb.VisitType(b.VisitType), Accumulation: pb.Accumulation(b.Accumulation), CapPool: b.CapPool}
		for _, d := range b.Deductibles {
			row := &pb.DeductibleRow{Level: int32(d.Level)}
			for _, a := range d.Amounts {
				row.Amounts = append(row.Amounts, engine.FormatMoney(a))
			}
			pbb.Deductibles = append(pbb.Deductibles, row)
		}
		for _, r := range b.Rates {
			pbb.Rates = append(pbb.Rates, &pb.RateRow{Level: int32(r.Level), Employment: pb.Employment(r.Employment), Schedule: scheduleToProto(r.Schedule)})
		}
		out.Benefits = append(out.Benefits, pbb)
	}
	for _, cp := range in.CapPools {
		pool := &pb.CapPool{Name: cp.Name}
		for _, r := range cp.Rows {
			pool.Rows = append(pool.Rows, &pb.CapPoolRow{MinYears: int32(r.MinYears), Amount: engine.FormatMoney(r.Amount)})
		}
		out.CapPools = append(out.CapPools, pool)
	}
	if c := in.Catastrophic; c != nil {
		cat := &pb.Catastrophic{IncludePreSelfPay: c.IncludePreSelfPay, Normal: scheduleToProto(c.Normal)}
		for _, v := range c.VisitTypes {
			cat.VisitTypes = append(cat.VisitTypes, pb.VisitType(v))
		}
		for _, pc := range c.SpecialCategories {
			cat.SpecialCategories = append(cat.SpecialCategories, pb.PersonCategory(pc))
		}
		if c.Special != nil {
			cat.Special = scheduleToProto(*c.Special)
		}
		out.Catastrophic = cat
	}
	for _, a := range in.MedicalAid {
		out.MedicalAid = append(out.MedicalAid, &pb.MedicalAid{
			Category: pb.PersonCategory(a.Category), Schedule: scheduleToProto(a.Schedule),
			IncludePreSelfPay: a.IncludePreSelfPay, OopCeiling: optMoneyString(a.OOPCeiling),
		})
	}
	if d := in.DRG; d != nil {
		drg := &pb.Drg{LowRatio: d.LowRatio.String(), ReserveRatio: d.ReserveRatio.String(), PointValueBasis: pb.PointValueBasis(d.PointValueBasis)}
		for _, g := range d.Groups {
			drg.Groups = append(drg.Groups, &pb.DrgGroup{Code: g.Code, BasePoints: g.BasePoints.String(), AverageCost: engine.FormatMoney(g.AverageCost)})
		}
		for _, c := range d.Coefficients {
			drg.Coefficients = append(drg.Coefficients, &pb.DrgCoefficient{InstitutionId: c.InstitutionID, Level: int32(c.Level), Coefficient: c.Coefficient.String()})
		}
		for _, h := range d.HighThresholds {
			drg.HighThresholds = append(drg.HighThresholds, &pb.DrgHighThreshold{UpToPoints: optString(h.UpToPoints), Ratio: h.Ratio.String()})
		}
		out.Drg = drg
	}
	if bc := in.BudgetClearing; bc != nil {
		c := &pb.BudgetClearing{
			SurplusRetention: bc.SurplusRetention.String(), MinUtilization: bc.MinUtilization.String(),
			OverspendShare: bc.OverspendShare.String(), OverspendTolerance: bc.OverspendTolerance.String(),
		}
		for _, v := range bc.VisitTypes {
			c.VisitTypes = append(c.VisitTypes, pb.VisitType(v))
		}
		out.BudgetClearing = c
	}
	out.Contribution = contributionToProto(in.Contribution)
	return out
}

func scheduleToProto(s engine.Schedule) *pb.Schedule {
	out := &pb.Schedule{AnnualCap: optMoneyString(s.AnnualCap)}
	for _, b := range s.Bands {
		out.Bands = append(out.Bands, &pb.Band{UpTo: optMoneyString(b.UpTo), Ratio: b.Ratio.String()})
	}
	return out
}

// optString renders an optional price or number of points in its
// shortest form, "" when unset.
func optString[T fmt.Stringer](d *T) string {
	if d == nil {
		return ""
	}
	return (*d).String()
}

// optMoneyString renders optional money with two decimals, "" when unset.
func optMoneyString(d *engine.Money) string {
	if d == nil {
		return ""
	}
	return engine.FormatMoney(*d)
}
