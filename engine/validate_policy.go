package engine

import "fmt"

// ValidatePolicy checks a whole policy document and returns a
// *ValidationError listing every problem, with field paths under "policy".
// It does not compare the policy with other versions (see CheckOverlap).
func ValidatePolicy(p *Policy) error {
	var v Violations
	CheckID(&v, "policy.region", p.Region)
	if p.Scheme != SchemeEmployee && p.Scheme != SchemeResident {
		v.Addf("policy.scheme", "must be SCHEME_EMPLOYEE or SCHEME_RESIDENT")
	}
	CheckID(&v, "policy.version", p.Version)
	if p.EffectiveFrom.IsZero() {
		v.Addf("policy.effective_from", "is required (YYYY-MM-DD)")
	}
	if p.EffectiveTo.IsZero() {
		v.Addf("policy.effective_to", "is required (YYYY-MM-DD)")
	}
	if !p.EffectiveFrom.IsZero() && !p.EffectiveTo.IsZero() && p.EffectiveTo.Compare(p.EffectiveFrom) < 0 {
		v.Addf("policy.effective_to", "%s is before effective_from %s", p.EffectiveTo, p.EffectiveFrom)
	}
	if p.UnknownItem < UnknownItemUnspecified || p.UnknownItem > UnknownItemReject {
		v.Addf("policy.unknown_item", "is not a known treatment")
	}
	validateCatalog(&v, p.Catalog)
	pools := validateCapPools(&v, p.CapPools)
	validateBenefits(&v, p.Benefits, pools)
	if p.Catastrophic != nil {
		validateCatastrophic(&v, p.Catastrophic)
	}
	seenAid := map[Category]bool{}
	if len(p.MedicalAid) > MaxRows {
		v.Addf("policy.medical_aid", "has %d rows; at most %d are allowed", len(p.MedicalAid), MaxRows)
	}
	for i, a := range p.MedicalAid {
		path := fmt.Sprintf("policy.medical_aid[%d]", i)
		switch {
		case a.Category < CategoryDestitute || a.Category > CategoryPovertyAlleviated:
			v.Addf(path+".category", "must be a category that receives aid (DESTITUTE, MINIMUM_LIVING, MONITORED, POVERTY_ALLEVIATED)")
		case seenAid[a.Category]:
			v.Addf(path+".category", "appears twice")
		}
		seenAid[a.Category] = true
		validateSchedule(&v, path+".schedule", a.Schedule)
	}
	if p.DRG != nil {
		validateDRG(&v, p.DRG)
	}
	if p.BudgetClearing != nil {
		for i, vt := range p.BudgetClearing.VisitTypes {
			checkVisitType(&v, fmt.Sprintf("policy.budget_clearing.visit_types[%d]", i), vt)
		}
	}
	if p.Contribution != nil {
		validateContribution(&v, "policy.contribution", p.Contribution)
	}
	return v.Err()
}

func checkVisitType(v *Violations, path string, vt VisitType) {
	if vt < VisitInpatient || vt > VisitOutpatient {
		v.Addf(path, "must be VISIT_TYPE_INPATIENT, VISIT_TYPE_CHRONIC_OUTPATIENT or VISIT_TYPE_OUTPATIENT")
	}
}

func checkLevel(v *Violations, path string, level int) {
	if level < 1 || level > 3 {
		v.Addf(path, "must be an institution level from 1 to 3, got %d", level)
	}
}

func validateCatalog(v *Violations, catalog []CatalogEntry) {
	if len(catalog) > MaxCatalog {
		v.Addf("policy.catalog", "has %d entries; at most %d are allowed", len(catalog), MaxCatalog)
		return
	}
	seen := make(map[string]int, len(catalog))
	for i, e := range catalog {
		path := fmt.Sprintf("policy.catalog[%d]", i)
		CheckID(v, path+".code", e.Code)
		if j, dup := seen[e.Code]; dup && e.Code != "" {
			v.Addf(path+".code", "%q is already entry %d", e.Code, j)
		}
		seen[e.Code] = i
		switch e.Category {
		case ItemA, ItemC:
			if !e.SelfPayRatio.IsZero() {
				v.Addf(path+".self_pay_ratio", "only category B items have a self-pay ratio")
			}
		case ItemB:
		default:
			v.Addf(path+".category", "must be ITEM_CATEGORY_A, ITEM_CATEGORY_B or ITEM_CATEGORY_C")
		}
	}
}

func validateCapPools(v *Violations, pools []CapPool) map[string]bool {
	names := map[string]bool{}
	if len(pools) > MaxRows {
		v.Addf("policy.cap_pools", "has %d pools; at most %d are allowed", len(pools), MaxRows)
	}
	for i, cp := range pools {
		path := fmt.Sprintf("policy.cap_pools[%d]", i)
		CheckID(v, path+".name", cp.Name)
		if names[cp.Name] {
			v.Addf(path+".name", "%q appears twice", cp.Name)
		}
		names[cp.Name] = true
		if len(cp.Rows) == 0 {
			v.Addf(path+".rows", "a cap pool needs at least one row")
		}
		years := map[int]bool{}
		for j, r := range cp.Rows {
			rp := fmt.Sprintf("%s.rows[%d]", path, j)
			if r.MinYears < 0 {
				v.Addf(rp+".min_years", "must not be negative")
			}
			if years[r.MinYears] {
				v.Addf(rp+".min_years", "%d appears twice", r.MinYears)
			}
			years[r.MinYears] = true
		}
	}
	return names
}

func validateBenefits(v *Violations, benefits []Benefit, pools map[string]bool) {
	seen := map[VisitType]bool{}
	for i, b := range benefits {
		path := fmt.Sprintf("policy.benefits[%d]", i)
		checkVisitType(v, path+".visit_type", b.VisitType)
		if seen[b.VisitType] {
			v.Addf(path+".visit_type", "%s has two benefits", b.VisitType)
		}
		seen[b.VisitType] = true
		if b.Accumulation != AccumulationPerVisit && b.Accumulation != AccumulationAnnual {
			v.Addf(path+".accumulation", "must be ACCUMULATION_PER_VISIT or ACCUMULATION_ANNUAL")
		}
		levels := map[int]bool{}
		if len(b.Deductibles) > MaxRows {
			v.Addf(path+".deductibles", "has %d rows; at most %d are allowed", len(b.Deductibles), MaxRows)
		}
		for j, d := range b.Deductibles {
			dp := fmt.Sprintf("%s.deductibles[%d]", path, j)
			checkLevel(v, dp+".level", d.Level)
			if levels[d.Level] {
				v.Addf(dp+".level", "level %d has two deductible rows", d.Level)
			}
			levels[d.Level] = true
			if len(d.Amounts) == 0 || len(d.Amounts) > MaxRows {
				v.Addf(dp+".amounts", "needs from 1 to %d amounts", MaxRows)
			}
		}
		if len(b.Rates) == 0 {
			v.Addf(path+".rates", "a benefit needs at least one rate row")
		}
		if len(b.Rates) > MaxRows {
			v.Addf(path+".rates", "has %d rows; at most %d are allowed", len(b.Rates), MaxRows)
		}
		type key struct {
			level int
			emp   Employment
		}
		rows := map[key]bool{}
		for j, r := range b.Rates {
			rp := fmt.Sprintf("%s.rates[%d]", path, j)
			checkLevel(v, rp+".level", r.Level)
			if r.Employment < EmploymentAny || r.Employment > EmploymentRetired {
				v.Addf(rp+".employment", "is not a known employment status")
			}
			k := key{r.Level, r.Employment}
			if rows[k] {
				v.Addf(rp, "level %d has two rate rows for the same employment status", r.Level)
			}
			rows[k] = true
			validateSchedule(v, rp+".schedule", r.Schedule)
			if r.Schedule.AnnualCap != nil {
				v.Addf(rp+".schedule.annual_cap", "basic-fund caps are set by cap_pools, not on rate schedules")
			}
		}
		if b.CapPool != "" && !pools[b.CapPool] {
			v.Addf(path+".cap_pool", "%q is not one of cap_pools", b.CapPool)
		}
	}
}

func validateSchedule(v *Violations, path string, s Schedule) {
	switch {
	case len(s.Bands) == 0:
		v.Addf(path+".bands", "a schedule needs at least one band")
		return
	case len(s.Bands) > MaxBands:
		v.Addf(path+".bands", "has %d bands; at most %d are allowed", len(s.Bands), MaxBands)
		return
	}
	var prev Money
	for i, b := range s.Bands {
		bp := fmt.Sprintf("%s.bands[%d]", path, i)
		last := i == len(s.Bands)-1
		switch {
		case last && b.UpTo != nil:
			v.Addf(bp+".up_to", "the last band must have no up_to")
		case !last && b.UpTo == nil:
			v.Addf(bp+".up_to", "only the last band may leave up_to empty")
		case b.UpTo != nil && !b.UpTo.GreaterThan(prev):
			v.Addf(bp+".up_to", "%s must be above the previous bound %s", b.UpTo, prev)
		}
		if b.UpTo != nil {
			prev = prev.Max(*b.UpTo)
		}
	}
}

func validateCatastrophic(v *Violations, c *Catastrophic) {
	const path = "policy.catastrophic"
	if len(c.VisitTypes) == 0 {
		v.Addf(path+".visit_types", "list the visit types catastrophic insurance covers")
	}
	for i, vt := range c.VisitTypes {
		checkVisitType(v, fmt.Sprintf("%s.visit_types[%d]", path, i), vt)
	}
	for i, cat := range c.SpecialCategories {
		if cat < CategoryOrdinary || cat > CategoryPovertyAlleviated {
			v.Addf(fmt.Sprintf("%s.special_categories[%d]", path, i), "is not a known person category")
		}
	}
	validateSchedule(v, path+".normal", c.Normal)
	if c.Special != nil {
		validateSchedule(v, path+".special", *c.Special)
	} else if len(c.SpecialCategories) > 0 {
		v.Addf(path+".special", "special_categories are listed but there is no special schedule")
	}
}

func validateDRG(v *Violations, d *DRG) {
	const path = "policy.drg"
	seen := map[string]bool{}
	for i, g := range d.Groups {
		gp := fmt.Sprintf("%s.groups[%d]", path, i)
		CheckID(v, gp+".code", g.Code)
		if seen[g.Code] {
			v.Addf(gp+".code", "%q appears twice", g.Code)
		}
		seen[g.Code] = true
		if !g.BasePoints.IsPositive() {
			v.Addf(gp+".base_points", "must be greater than 0")
		}
		if !g.AverageCost.IsPositive() {
			v.Addf(gp+".average_cost", "must be greater than 0")
		}
	}
	for i, c := range d.Coefficients {
		cp := fmt.Sprintf("%s.coefficients[%d]", path, i)
		if (c.InstitutionID == "") == (c.Level == 0) {
			v.Addf(cp, "name exactly one of institution_id or level")
		}
		if c.Level != 0 {
			checkLevel(v, cp+".level", c.Level)
		}
		if !c.Coefficient.IsPositive() {
			v.Addf(cp+".coefficient", "must be greater than 0")
		}
	}
	var prev Points
	for i, h := range d.HighThresholds {
		hp := fmt.Sprintf("%s.high_thresholds[%d]", path, i)
		last := i == len(d.HighThresholds)-1
		switch {
		case last && h.UpToPoints != nil:
			v.Addf(hp+".up_to_points", "the last row must have no up_to_points")
		case !last && h.UpToPoints == nil:
			v.Addf(hp+".up_to_points", "only the last row may leave up_to_points empty")
		case h.UpToPoints != nil && !h.UpToPoints.GreaterThan(prev):
			v.Addf(hp+".up_to_points", "must be above the previous row")
		}
		if h.UpToPoints != nil {
			prev = *h.UpToPoints
		}
		if !h.Ratio.IsPositive() {
			v.Addf(hp+".ratio", "must be greater than 0")
		}
	}
}

// CheckOverlap returns a *ValidationError when p's validity overlaps
// another version of the same region and scheme. A policy with the same
// version replaces that version and is not compared with it.
func CheckOverlap(p *Policy, others []*Policy) error {
	var v Violations
	for _, o := range others {
		if o.Region != p.Region || o.Scheme != p.Scheme || o.Version == p.Version {
			continue
		}
		if p.EffectiveFrom.Compare(o.EffectiveTo) <= 0 && o.EffectiveFrom.Compare(p.EffectiveTo) <= 0 {
			v.Addf("policy.effective_from", "[%s, %s] overlaps version %s [%s, %s] of the same region and scheme",
				p.EffectiveFrom, p.EffectiveTo, o.Version, o.EffectiveFrom, o.EffectiveTo)
		}
	}
	return v.Err()
}
