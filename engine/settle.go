package engine

import (
	"errors"
	"fmt"
)

// ErrInvariant means the engine computed a result that breaks an identity
// of SETTLEMENT.md. It is a bug, never the caller's fault.
var ErrInvariant = errors.New("settlement invariant broken")

// Input is everything a settlement reads: the policy in force, the person,
// the institution, the claim, the person's accumulators for the claim's
// year, the institution's budget usage for that year so far and the
// person's cross-region filings (from which, with the institution's and
// the person's regions, the settlement decides whether care is local,
// registered or unregistered).
type Input struct {
	Policy       *Policy
	Person       Person
	Institution  Institution
	Claim        Claim
	Accumulators Accumulators
	BudgetUsed   Money
	Filings      []Filing
	// ClaimValidated says Claim has passed ValidateClaim with no error
	// (the api's request parsing, claimFromProto, does, and lists every
	// bad field): Settle then trusts it and does not validate it again.
	// Left false, Settle validates the claim itself.
	ClaimValidated bool
}

// Settle computes the settlement of one claim. It is pure: the same input
// always gives the same result, and nothing is changed.
//
// The cross-region state is decided from the records (DecideCrossRegion)
// and returned in Result.CrossRegion; the claim's own CrossRegion, when
// given, must agree.
//
// Returns a *ValidationError (ErrInvalid) for a malformed claim, an unknown
// item under UNKNOWN_ITEM_REJECT, an unknown DRG code, or a claim that
// would carry a figure above MaxTotal (CheckBounds); ErrNotCovered when
// the policy has no row for the institution level or the person's
// contribution years; ErrNoPolicy when the policy does not cover the
// claim; ErrCrossRegion when the claim's cross_region disagrees with the
// records.
func Settle(in Input) (Result, error) {
	// The claim, person and accumulators are read in place: Input is
	// hundreds of bytes, and copying its parts into every layer's call
	// cost more than some of the layers' work.
	c, p := &in.Claim, in.Policy
	if !in.ClaimValidated {
		if err := ValidateClaim(*c); err != nil {
			return Result{}, err
		}
	}
	if p == nil || !p.Covers(c.SettleDate) || p.Region != in.Person.Region || p.Scheme != in.Person.Scheme {
		return Result{}, fmt.Errorf("%w: the policy given does not cover person %q on %s", ErrNoPolicy, in.Person.ID, c.SettleDate)
	}
	if in.Accumulators.Year != 0 && in.Accumulators.Year != c.Year() {
		return Result{}, fmt.Errorf("%w: accumulators of %d given for a claim of %d", ErrInvariant, in.Accumulators.Year, c.Year())
	}
	if in.Accumulators.InpatientCount < 0 {
		return Result{}, fmt.Errorf("%w: person %q has a negative inpatient count %d", ErrInvariant, in.Person.ID, in.Accumulators.InpatientCount)
	}
	if err := CheckCodes(p, *c); err != nil {
		return Result{}, err
	}
	cross, _ := decideCrossRegion(in.Person, in.Institution, in.Filings, c.SettleDate)
	if c.CrossRegion != CrossRegionUnspecified && c.CrossRegion != cross {
		return Result{}, CheckCrossRegion(c.CrossRegion, DecideCrossRegion(in.Person, in.Institution, in.Filings, c.SettleDate))
	}
	var b Breakdown
	classify(p, c, &b)
	acc := &in.Accumulators
	delta := NewAccumulators(c.PersonID, c.Year())
	res := Result{PolicyVersion: p.Version, PolicyRegion: p.Region, PolicyScheme: p.Scheme, WarnRatio: p.WarnRatio(),
		CrossRegion: cross}

	// One allocation for every detail line: each layer's span appends
	// its bands here, and the lines that pay nothing are dropped.
	// The identities held on the settle date choose the catastrophic
	// schedule and the aid rule (SETTLEMENT.md "Identities").
	aid := aidRuleFor(p, in.Person, c.SettleDate)
	special := specialFor(p.Catastrophic, in.Person, c.SettleDate)
	res.Details = make([]Detail, 0, detailCapacity(p, aid, c.VisitType, in.Institution.Level))
	// One allocation for the layers (one each at most) and, when the
	// institution has a budget, both budget pointers.
	own := &struct {
		layers [3]Layer
		limit  Money
		st     BudgetStatus
	}{}
	res.Layers = own.layers[:0:3]
	basic, err := basicLayer(p, &in.Person, in.Institution.Level, cross, c, acc, b.InScope, &delta, &res.Details, &res.Layers)
	if err != nil {
		return Result{}, err
	}
	b.Deductible, b.BasicFund, b.OverCap = basic.deductible, basic.paid, basic.overCap

	b.Catastrophic = catastrophicLayer(p, special, c.VisitType, acc, &b, &delta, &res.Details, &res.Layers)
	b.MedicalAid = aidLayer(aid, acc, &b, &delta, &res.Details, &res.Layers)

	b.FundTotal = b.BasicFund.Add(b.Catastrophic).Add(b.MedicalAid)
	b.PersonalTotal = b.Total.Sub(b.FundTotal)
	if in.Person.Scheme == SchemeEmployee && c.UsePersonalAccount {
		payable := b.PersonalTotal
		if !p.AccountCoversOutOfScope {
			payable = payable.Sub(b.OutOfScope).Sub(b.OverLimit)
		}
		b.Account = in.Person.AccountBalance.Max(Money{}).Min(payable.Max(Money{}))
	}
	b.Cash = b.PersonalTotal.Sub(b.Account)
	if len(res.Details) == 0 {
		res.Details = nil // as a result without detail lines always was
	}
	res.Breakdown = b
	res.Delta = delta
	res.AccountBalance = in.Person.AccountBalance

	if limit, ok := in.Institution.Budget(c.Year()); ok {
		own.limit, own.st = limit, NewBudgetStatus(c.Year(), limit, in.BudgetUsed.Add(b.BasicFund), res.WarnRatio)
		res.BudgetLimit, res.Budget = &own.limit, &own.st
	}
	if err := checkResult(&res); err != nil {
		return Result{}, err
	}
	if !settledWithinBounds(&in.Accumulators, &res, c.VisitType, basic.pool) {
		if err := CheckBounds(in, res); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// CheckCodes checks the claim's codes against the policy: the DRG code
// must be one of its groups, and under UNKNOWN_ITEM_REJECT every item code
// must be in its catalog. Returns a *ValidationError listing every problem.
func CheckCodes(p *Policy, c Claim) error {
	var v Violations
	if c.DRGCode != "" && !p.HasDRG(c.DRGCode) {
		v.Addf("drg_code", "%q is not a DRG group of policy %s %s", c.DRGCode, p.Region, p.Version)
	}
	if p.UnknownItem == UnknownItemReject {
		for i, it := range c.Items {
			if _, ok := p.Item(it.Code); !ok {
				v.Addf(fmt.Sprintf("items[%d].code", i), "%q is not in the catalog of policy %s %s, which rejects unknown items", it.Code, p.Region, p.Version)
			}
		}
	}
	return v.Err()
}

type basicResult struct {
	deductible, paid, overCap Money
	// pool is the cap pool the delta's PoolUsed names ("" for none).
	pool string
}

// detailCapacity is the most detail lines a settlement can have: the
// bands of every schedule it may use (aid by its rule, nil for none), and
// the aid ceiling line.
func detailCapacity(p *Policy, aid *AidRule, vt VisitType, level int) int {
	n := 1
	if ben := p.Benefit(vt); ben != nil {
		most := 0
		for i := range ben.Rates {
			if ben.Rates[i].Level == level {
				most = max(most, len(ben.Rates[i].Schedule.Bands))
			}
		}
		n += most
	}
	if cat := p.Catastrophic; cat != nil {
		special := 0
		if cat.Special != nil {
			special = len(cat.Special.Bands)
		}
		n += max(len(cat.Normal.Bands), special)
	}
	if aid != nil {
		n += len(aid.Schedule.Bands)
	}
	return n
}

// basicLayer computes the basic pooled fund (hifp_pay) and records what it
// adds to the accumulators in delta.
func basicLayer(p *Policy, person *Person, level int, cross CrossRegion, c *Claim, acc *Accumulators, s Money, delta *Accumulators, details *[]Detail, layers *[]Layer) (basicResult, error) {
	vt := c.VisitType
	if vt == VisitInpatient {
		delta.InpatientCount = 1
	}
	ben := p.Benefit(vt)
	if ben == nil {
		delta.VisitTypes = map[VisitType]VisitAccumulator{vt: {InScope: s}}
		return basicResult{}, nil
	}
	d, err := deductibleFor(p, ben, level, vt, acc)
	if err != nil {
		return basicResult{}, err
	}
	sched, err := ratesFor(p, ben, level, person.Employment)
	if err != nil {
		return basicResult{}, err
	}
	var c0 Money
	if ben.Accumulation == AccumulationAnnual {
		c0 = acc.Visit(vt).InScope
	}
	c1 := c0.Add(s)
	var cut Ratio
	if cross == CrossRegionUnregistered {
		cut = p.UnregisteredRatioCut
	}
	start := len(*details)
	var raw Money
	*details, raw = span(*details, sched.Bands, cut, d, c0, c1, FundBasic)
	layer := newLayer(FundBasic, sched.Bands, cut, d, c0, s)
	paid := raw
	if ben.CapPool != "" {
		limit, err := capFor(p, ben.CapPool, person.ContributionYears)
		if err != nil {
			return basicResult{}, err
		}
		used := acc.Pool(ben.CapPool)
		layer.capped(limit, used)
		paid = capLines((*details)[start:], raw, limit.Sub(used))
		delta.PoolUsed = map[string]Money{ben.CapPool: paid}
	}
	layer.Raw, layer.Paid = raw, paid
	*layers = append(*layers, layer)
	*details = dropZero(*details, start)
	ded := c1.Min(d).Sub(c0.Min(d))
	delta.VisitTypes = map[VisitType]VisitAccumulator{vt: {InScope: s, DeductiblePaid: ded}}
	return basicResult{deductible: ded, paid: paid, overCap: raw.Sub(paid), pool: ben.CapPool}, nil
}

// deductibleFor is the deductible that applies: by admission sequence for
// per-visit inpatient care, the first entry otherwise.
func deductibleFor(p *Policy, ben *Benefit, level int, vt VisitType, acc *Accumulators) (Money, error) {
	if len(ben.Deductibles) == 0 {
		return Money{}, nil
	}
	for _, row := range ben.Deductibles {
		if row.Level != level || len(row.Amounts) == 0 {
			continue
		}
		i := 0
		if ben.Accumulation == AccumulationPerVisit && vt == VisitInpatient {
			i = acc.InpatientCount
		}
		if i >= len(row.Amounts) {
			i = len(row.Amounts) - 1
		}
		return row.Amounts[i], nil
	}
	return Money{}, fmt.Errorf("%w: policy %s %s has no %s deductible for institution level %d",
		ErrNotCovered, p.Region, p.Version, vt, level)
}

// ratesFor picks the rate schedule of a level: the row with the person's
// exact employment status wins over a row for everyone.
func ratesFor(p *Policy, ben *Benefit, level int, emp Employment) (Schedule, error) {
	var any *Schedule
	for i := range ben.Rates {
		r := &ben.Rates[i]
		if r.Level != level {
			continue
		}
		if r.Employment == emp && emp != EmploymentAny {
			return r.Schedule, nil
		}
		if r.Employment == EmploymentAny && any == nil {
			any = &r.Schedule
		}
	}
	if any != nil {
		return *any, nil
	}
	return Schedule{}, fmt.Errorf("%w: policy %s %s has no %s rates for institution level %d",
		ErrNotCovered, p.Region, p.Version, ben.VisitType, level)
}

// capFor is a cap pool's amount for a person: the row with the largest
// min_years not above the contribution years.
// The amount is returned by its place in the policy, which nothing
// modifies, so that a layer can record it without a copy.
func capFor(p *Policy, pool string, years int) (*Money, error) {
	for _, cp := range p.CapPools {
		if cp.Name != pool {
			continue
		}
		best := -1
		for i, r := range cp.Rows {
			if r.MinYears <= years && (best < 0 || r.MinYears > cp.Rows[best].MinYears) {
				best = i
			}
		}
		if best >= 0 {
			return &cp.Rows[best].Amount, nil
		}
		return nil, fmt.Errorf("%w: cap pool %q of policy %s %s has no row for %d contribution years",
			ErrNotCovered, pool, p.Region, p.Version, years)
	}
	return nil, fmt.Errorf("%w: policy %s %s has no cap pool %q", ErrNotCovered, p.Region, p.Version, pool)
}

// catastrophicLayer computes catastrophic insurance (hifmi_pay), on the
// special schedule when special says so (specialFor).
func catastrophicLayer(p *Policy, special bool, vt VisitType, acc *Accumulators, b *Breakdown, delta *Accumulators, details *[]Detail, layers *[]Layer) Money {
	cat := p.Catastrophic
	if cat == nil || !containsVisit(cat.VisitTypes, vt) {
		return Money{}
	}
	base := b.InScope.Sub(b.BasicFund)
	if cat.IncludePreSelfPay {
		base = base.Add(b.PreSelfPay)
	}
	base = base.Max(Money{})
	sched := cat.Normal
	if special {
		sched = *cat.Special
	}
	start := len(*details)
	var raw Money
	*details, raw = span(*details, sched.Bands, Ratio{}, Money{}, acc.CatastrophicBase, acc.CatastrophicBase.Add(base), FundCatastrophic)
	layer := newLayer(FundCatastrophic, sched.Bands, Ratio{}, Money{}, acc.CatastrophicBase, base)
	paid := raw
	if sched.AnnualCap != nil {
		layer.capped(sched.AnnualCap, acc.CatastrophicPaid)
		paid = capLines((*details)[start:], raw, sched.AnnualCap.Sub(acc.CatastrophicPaid))
	}
	layer.Raw, layer.Paid = raw, paid
	*layers = append(*layers, layer)
	*details = dropZero(*details, start)
	delta.CatastrophicBase = base
	delta.CatastrophicPaid = paid
	return paid
}

// aidLayer computes medical aid (maf_pay) by rule (aidRuleFor; nil for
// none), including the out-of-pocket ceiling payment. The accumulators are
// the person-year's whatever rule applied to the earlier claims: a rule
// that changes within the year applies its schedule, cap and ceiling to
// the year's totals so far.
func aidLayer(rule *AidRule, acc *Accumulators, b *Breakdown, delta *Accumulators, details *[]Detail, layers *[]Layer) Money {
	if rule == nil {
		return Money{}
	}
	base := b.InScope.Sub(b.BasicFund).Sub(b.Catastrophic)
	if rule.IncludePreSelfPay {
		base = base.Add(b.PreSelfPay)
	}
	base = base.Max(Money{})
	start := len(*details)
	var raw Money
	*details, raw = span(*details, rule.Schedule.Bands, Ratio{}, Money{}, acc.AidBase, acc.AidBase.Add(base), FundMedicalAid)
	layer := newLayer(FundMedicalAid, rule.Schedule.Bands, Ratio{}, Money{}, acc.AidBase, base)
	regular := raw
	if rule.Schedule.AnnualCap != nil {
		layer.capped(rule.Schedule.AnnualCap, acc.AidPaid)
		regular = capLines((*details)[start:], raw, rule.Schedule.AnnualCap.Sub(acc.AidPaid))
	}
	*details = dropZero(*details, start)
	oop := base.Sub(regular)
	var extra Money
	if rule.OOPCeiling != nil {
		c0, c1 := acc.AidOutOfPocket, acc.AidOutOfPocket.Add(oop)
		extra = c1.Sub(*rule.OOPCeiling).Max(Money{}).Sub(c0.Sub(*rule.OOPCeiling).Max(Money{}))
		if extra.IsPositive() {
			*details = append(*details, Detail{Fund: FundAidCeiling, Band: 0, Ratio: RatioOne, Base: extra, Amount: extra})
		}
	}
	layer.Raw, layer.Paid = raw, regular
	if rule.OOPCeiling != nil {
		// The policy's own value: policies are read-only once indexed.
		layer.Ceiling, layer.CeilingPaid = rule.OOPCeiling, extra
	}
	*layers = append(*layers, layer)
	delta.AidBase = base
	delta.AidPaid = regular
	delta.AidOutOfPocket = oop
	return regular.Add(extra)
}

func containsVisit(list []VisitType, v VisitType) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
