package pgstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// storedPolicy is the stored document of a policy (policies.doc). As with
// the settlement documents, field names are the Go field names the
// untagged engine struct was written with, a document without "v" is
// version 1, enums go through explicit stored numbers, and every field is
// required.
type storedPolicy struct {
	V                       int                   `json:"v,omitempty" doc:"optional"`
	Region                  string                `json:"Region"`
	Scheme                  int                   `json:"Scheme"`
	Version                 string                `json:"Version"`
	EffectiveFrom           storedDate            `json:"EffectiveFrom"`
	EffectiveTo             storedDate            `json:"EffectiveTo"`
	UnknownItem             int                   `json:"UnknownItem"`
	Catalog                 []storedCatalogEntry  `json:"Catalog"`
	Benefits                []storedBenefit       `json:"Benefits"`
	CapPools                []storedCapPool       `json:"CapPools"`
	UnregisteredRatioCut    engine.Ratio          `json:"UnregisteredRatioCut"`
	Catastrophic            *storedCatastrophic   `json:"Catastrophic"`
	MedicalAid              []storedAidRule       `json:"MedicalAid"`
	AccountCoversOutOfScope bool                  `json:"AccountCoversOutOfScope"`
	BudgetWarnRatio         *engine.Ratio         `json:"BudgetWarnRatio"`
	DRG                     *storedDRG            `json:"DRG"`
	BudgetClearing          *storedBudgetClearing `json:"BudgetClearing"`
	// Contribution is left out when the policy has none, so that the
	// documents of policies without one read as they were written.
	Contribution *storedContribution `json:"Contribution,omitempty" doc:"optional"`
}

// storedCatalogEntry is one catalog item of a stored policy.
type storedCatalogEntry struct {
	Code         string        `json:"Code"`
	Category     int           `json:"Category"`
	SelfPayRatio engine.Ratio  `json:"SelfPayRatio"`
	PriceCap     *engine.Price `json:"PriceCap"`
}

// storedBand is one band of a stored schedule.
type storedBand struct {
	UpTo  *engine.Money `json:"UpTo"`
	Ratio engine.Ratio  `json:"Ratio"`
}

// storedSchedule is a stored schedule of bands.
type storedSchedule struct {
	Bands     []storedBand  `json:"Bands"`
	AnnualCap *engine.Money `json:"AnnualCap"`
}

// storedBenefit is the benefit of one visit type.
type storedBenefit struct {
	VisitType    int                 `json:"VisitType"`
	Accumulation int                 `json:"Accumulation"`
	Deductibles  []storedDeductibles `json:"Deductibles"`
	Rates        []storedRateRow     `json:"Rates"`
	CapPool      string              `json:"CapPool"`
}

// storedDeductibles is the deductible row of one institution level.
type storedDeductibles struct {
	Level   int            `json:"Level"`
	Amounts []engine.Money `json:"Amounts"`
}

// storedRateRow is the schedule of one level and employment status.
type storedRateRow struct {
	Level      int            `json:"Level"`
	Employment int            `json:"Employment"`
	Schedule   storedSchedule `json:"Schedule"`
}

// storedCapPool is a named annual cap by contribution years.
type storedCapPool struct {
	Name string             `json:"Name"`
	Rows []storedCapPoolRow `json:"Rows"`
}

// storedCapPoolRow is one row of a cap pool.
type storedCapPoolRow struct {
	MinYears int          `json:"MinYears"`
	Amount   engine.Money `json:"Amount"`
}

// storedCatastrophic is the catastrophic insurance of a stored policy.
type storedCatastrophic struct {
	VisitTypes        []int           `json:"VisitTypes"`
	IncludePreSelfPay bool            `json:"IncludePreSelfPay"`
	SpecialCategories []int           `json:"SpecialCategories"`
	Normal            storedSchedule  `json:"Normal"`
	Special           *storedSchedule `json:"Special"`
}

// storedAidRule is the medical aid of one person category.
type storedAidRule struct {
	Category          int            `json:"Category"`
	Schedule          storedSchedule `json:"Schedule"`
	IncludePreSelfPay bool           `json:"IncludePreSelfPay"`
	OOPCeiling        *engine.Money  `json:"OOPCeiling"`
}

// storedDRG is the DRG clearing section of a stored policy.
type storedDRG struct {
	Groups          []storedDRGGroup         `json:"Groups"`
	Coefficients    []storedDRGCoefficient   `json:"Coefficients"`
	HighThresholds  []storedDRGHighThreshold `json:"HighThresholds"`
	LowRatio        engine.Ratio             `json:"LowRatio"`
	ReserveRatio    engine.Ratio             `json:"ReserveRatio"`
	PointValueBasis int                      `json:"PointValueBasis"`
}

// storedDRGGroup is one DRG group.
type storedDRGGroup struct {
	Code        string        `json:"Code"`
	BasePoints  engine.Points `json:"BasePoints"`
	AverageCost engine.Money  `json:"AverageCost"`
}

// storedDRGCoefficient is an institution's (or a level's) coefficient.
type storedDRGCoefficient struct {
	InstitutionID string       `json:"InstitutionID"`
	Level         int          `json:"Level"`
	Coefficient   engine.Ratio `json:"Coefficient"`
}

// storedDRGHighThreshold is one band of the high-cost threshold.
type storedDRGHighThreshold struct {
	UpToPoints *engine.Points `json:"UpToPoints"`
	Ratio      engine.Ratio   `json:"Ratio"`
}

// storedBudgetClearing is the budget clearing section of a stored policy.
type storedBudgetClearing struct {
	VisitTypes         []int        `json:"VisitTypes"`
	SurplusRetention   engine.Ratio `json:"SurplusRetention"`
	MinUtilization     engine.Ratio `json:"MinUtilization"`
	OverspendShare     engine.Ratio `json:"OverspendShare"`
	OverspendTolerance engine.Ratio `json:"OverspendTolerance"`
}

// The stored numbers of the enums only policies carry.
var (
	unknownItemCodes = newEnumCodes("unknown item", map[engine.UnknownItem]int{
		engine.UnknownItemUnspecified: 0, engine.UnknownItemSelfPay: 1, engine.UnknownItemReject: 2,
	})
	itemCategoryCodes = newEnumCodes("item category", map[engine.ItemCategory]int{
		engine.ItemUnspecified: 0, engine.ItemA: 1, engine.ItemB: 2, engine.ItemC: 3,
	})
	accumulationCodes = newEnumCodes("accumulation", map[engine.Accumulation]int{
		engine.AccumulationUnspecified: 0, engine.AccumulationPerVisit: 1, engine.AccumulationAnnual: 2,
	})
	employmentCodes = newEnumCodes("employment", map[engine.Employment]int{
		engine.EmploymentAny: 0, engine.EmploymentEmployed: 1, engine.EmploymentRetired: 2,
	})
	categoryCodes = newEnumCodes("category", map[engine.Category]int{
		engine.CategoryUnspecified: 0, engine.CategoryOrdinary: 1, engine.CategoryDestitute: 2,
		engine.CategoryMinimumLiving: 3, engine.CategoryMonitored: 4, engine.CategoryPovertyAlleviated: 5,
	})
	pointValueBasisCodes = newEnumCodes("point value basis", map[engine.PointValueBasis]int{
		engine.PointValueUnspecified: 0, engine.PointValueFundPlusPersonal: 1, engine.PointValueFundOnly: 2,
	})
)

// convert maps a slice element by element, keeping nil nil; the first
// error is returned.
func convert[A, B any](in []A, f func(A) (B, error)) ([]B, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]B, 0, len(in))
	for _, a := range in {
		b, err := f(a)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// codecs of the schedule, shared by benefits, catastrophic insurance and aid.
func toStoredSchedule(s engine.Schedule) storedSchedule {
	bands, _ := convert(s.Bands, func(b engine.Band) (storedBand, error) { return storedBand(b), nil })
	return storedSchedule{Bands: bands, AnnualCap: s.AnnualCap}
}

func (s storedSchedule) schedule() engine.Schedule {
	bands, _ := convert(s.Bands, func(b storedBand) (engine.Band, error) { return engine.Band(b), nil })
	return engine.Schedule{Bands: bands, AnnualCap: s.AnnualCap}
}

func toStoredDate(d engine.Date) storedDate { return storedDate{d.Year, int(d.Month), d.Day} }

func (d storedDate) date() engine.Date {
	return engine.Date{Year: d.Year, Month: time.Month(d.Month), Day: d.Day}
}

// encodePolicy is the stored document of a policy.
func encodePolicy(p *engine.Policy) ([]byte, error) {
	d, err := toStoredPolicy(p)
	if err != nil {
		return nil, fmt.Errorf("encode policy %s/%d/%s: %w", p.Region, p.Scheme, p.Version, err)
	}
	return json.Marshal(d)
}

func toStoredPolicy(p *engine.Policy) (storedPolicy, error) {
	var errs []error
	code := func(n int, err error) int { errs = append(errs, err); return n }
	d := storedPolicy{V: docVersion, Region: p.Region, Scheme: code(schemeCodes.code(p.Scheme)), Version: p.Version,
		EffectiveFrom: toStoredDate(p.EffectiveFrom), EffectiveTo: toStoredDate(p.EffectiveTo),
		UnknownItem: code(unknownItemCodes.code(p.UnknownItem)), UnregisteredRatioCut: p.UnregisteredRatioCut,
		AccountCoversOutOfScope: p.AccountCoversOutOfScope, BudgetWarnRatio: p.BudgetWarnRatio}
	var err error
	d.Catalog, err = convert(p.Catalog, func(e engine.CatalogEntry) (storedCatalogEntry, error) {
		c, err := itemCategoryCodes.code(e.Category)
		return storedCatalogEntry{Code: e.Code, Category: c, SelfPayRatio: e.SelfPayRatio, PriceCap: e.PriceCap}, err
	})
	errs = append(errs, err)
	d.Benefits, err = convert(p.Benefits, func(b engine.Benefit) (storedBenefit, error) {
		rates, err := convert(b.Rates, func(r engine.RateRow) (storedRateRow, error) {
			e, err := employmentCodes.code(r.Employment)
			return storedRateRow{Level: r.Level, Employment: e, Schedule: toStoredSchedule(r.Schedule)}, err
		})
		deds, _ := convert(b.Deductibles, func(r engine.DeductibleRow) (storedDeductibles, error) { return storedDeductibles(r), nil })
		return storedBenefit{VisitType: code(visitTypeCodes.code(b.VisitType)), Accumulation: code(accumulationCodes.code(b.Accumulation)),
			Deductibles: deds, Rates: rates, CapPool: b.CapPool}, err
	})
	errs = append(errs, err)
	d.CapPools, _ = convert(p.CapPools, func(c engine.CapPool) (storedCapPool, error) {
		rows, _ := convert(c.Rows, func(r engine.CapPoolRow) (storedCapPoolRow, error) { return storedCapPoolRow(r), nil })
		return storedCapPool{Name: c.Name, Rows: rows}, nil
	})
	if c := p.Catastrophic; c != nil {
		vts, err1 := convert(c.VisitTypes, visitTypeCodes.code)
		cats, err2 := convert(c.SpecialCategories, categoryCodes.code)
		errs = append(errs, err1, err2)
		sc := &storedCatastrophic{VisitTypes: vts, IncludePreSelfPay: c.IncludePreSelfPay, SpecialCategories: cats, Normal: toStoredSchedule(c.Normal)}
		if c.Special != nil {
			s := toStoredSchedule(*c.Special)
			sc.Special = &s
		}
		d.Catastrophic = sc
	}
	d.MedicalAid, err = convert(p.MedicalAid, func(a engine.AidRule) (storedAidRule, error) {
		c, err := categoryCodes.code(a.Category)
		return storedAidRule{Category: c, Schedule: toStoredSchedule(a.Schedule), IncludePreSelfPay: a.IncludePreSelfPay, OOPCeiling: a.OOPCeiling}, err
	})
	errs = append(errs, err)
	if g := p.DRG; g != nil {
		groups, _ := convert(g.Groups, func(x engine.DRGGroup) (storedDRGGroup, error) { return storedDRGGroup(x), nil })
		coefs, _ := convert(g.Coefficients, func(x engine.DRGCoefficient) (storedDRGCoefficient, error) { return storedDRGCoefficient(x), nil })
		highs, _ := convert(g.HighThresholds, func(x engine.DRGHighThreshold) (storedDRGHighThreshold, error) { return storedDRGHighThreshold(x), nil })
		d.DRG = &storedDRG{Groups: groups, Coefficients: coefs, HighThresholds: highs, LowRatio: g.LowRatio, ReserveRatio: g.ReserveRatio,
			PointValueBasis: code(pointValueBasisCodes.code(g.PointValueBasis))}
	}
	if b := p.BudgetClearing; b != nil {
		vts, err := convert(b.VisitTypes, visitTypeCodes.code)
		errs = append(errs, err)
		d.BudgetClearing = &storedBudgetClearing{VisitTypes: vts, SurplusRetention: b.SurplusRetention, MinUtilization: b.MinUtilization,
			OverspendShare: b.OverspendShare, OverspendTolerance: b.OverspendTolerance}
	}
	d.Contribution, err = toStoredContribution(p.Contribution)
	errs = append(errs, err)
	return d, errors.Join(errs...)
}

// decodePolicy reads a stored policy document (any version), indexed.
func decodePolicy(doc []byte) (*engine.Policy, error) {
	var d storedPolicy
	if err := decodeDoc("policy", doc, &d); err != nil {
		return nil, err
	}
	p, err := d.policy()
	if err != nil {
		return nil, fmt.Errorf("policy %s/%s: %w", d.Region, d.Version, err)
	}
	return p.Index(), nil
}

func (d storedPolicy) policy() (*engine.Policy, error) {
	var errs []error
	keep := func(err error) { errs = append(errs, err) }
	scheme, err := schemeCodes.value(d.Scheme)
	keep(err)
	unknown, err := unknownItemCodes.value(d.UnknownItem)
	keep(err)
	p := &engine.Policy{Region: d.Region, Scheme: scheme, Version: d.Version, EffectiveFrom: d.EffectiveFrom.date(),
		EffectiveTo: d.EffectiveTo.date(), UnknownItem: unknown, UnregisteredRatioCut: d.UnregisteredRatioCut,
		AccountCoversOutOfScope: d.AccountCoversOutOfScope, BudgetWarnRatio: d.BudgetWarnRatio}
	p.Catalog, err = convert(d.Catalog, func(e storedCatalogEntry) (engine.CatalogEntry, error) {
		c, err := itemCategoryCodes.value(e.Category)
		return engine.CatalogEntry{Code: e.Code, Category: c, SelfPayRatio: e.SelfPayRatio, PriceCap: e.PriceCap}, err
	})
	keep(err)
	p.Benefits, err = convert(d.Benefits, func(b storedBenefit) (engine.Benefit, error) {
		vt, err1 := visitTypeCodes.value(b.VisitType)
		acc, err2 := accumulationCodes.value(b.Accumulation)
		rates, err3 := convert(b.Rates, func(r storedRateRow) (engine.RateRow, error) {
			e, err := employmentCodes.value(r.Employment)
			return engine.RateRow{Level: r.Level, Employment: e, Schedule: r.Schedule.schedule()}, err
		})
		deds, _ := convert(b.Deductibles, func(r storedDeductibles) (engine.DeductibleRow, error) { return engine.DeductibleRow(r), nil })
		return engine.Benefit{VisitType: vt, Accumulation: acc, Deductibles: deds, Rates: rates, CapPool: b.CapPool}, errors.Join(err1, err2, err3)
	})
	keep(err)
	p.CapPools, _ = convert(d.CapPools, func(c storedCapPool) (engine.CapPool, error) {
		rows, _ := convert(c.Rows, func(r storedCapPoolRow) (engine.CapPoolRow, error) { return engine.CapPoolRow(r), nil })
		return engine.CapPool{Name: c.Name, Rows: rows}, nil
	})
	if c := d.Catastrophic; c != nil {
		vts, err1 := convert(c.VisitTypes, visitTypeCodes.value)
		cats, err2 := convert(c.SpecialCategories, categoryCodes.value)
		errs = append(errs, err1, err2)
		ec := &engine.Catastrophic{VisitTypes: vts, IncludePreSelfPay: c.IncludePreSelfPay, SpecialCategories: cats, Normal: c.Normal.schedule()}
		if c.Special != nil {
			s := c.Special.schedule()
			ec.Special = &s
		}
		p.Catastrophic = ec
	}
	p.MedicalAid, err = convert(d.MedicalAid, func(a storedAidRule) (engine.AidRule, error) {
		c, err := categoryCodes.value(a.Category)
		return engine.AidRule{Category: c, Schedule: a.Schedule.schedule(), IncludePreSelfPay: a.IncludePreSelfPay, OOPCeiling: a.OOPCeiling}, err
	})
	keep(err)
	if g := d.DRG; g != nil {
		basis, err := pointValueBasisCodes.value(g.PointValueBasis)
		keep(err)
		groups, _ := convert(g.Groups, func(x storedDRGGroup) (engine.DRGGroup, error) { return engine.DRGGroup(x), nil })
		coefs, _ := convert(g.Coefficients, func(x storedDRGCoefficient) (engine.DRGCoefficient, error) { return engine.DRGCoefficient(x), nil })
		highs, _ := convert(g.HighThresholds, func(x storedDRGHighThreshold) (engine.DRGHighThreshold, error) {
			return engine.DRGHighThreshold(x), nil
		})
		p.DRG = &engine.DRG{Groups: groups, Coefficients: coefs, HighThresholds: highs, LowRatio: g.LowRatio, ReserveRatio: g.ReserveRatio, PointValueBasis: basis}
	}
	if b := d.BudgetClearing; b != nil {
		vts, err := convert(b.VisitTypes, visitTypeCodes.value)
		keep(err)
		p.BudgetClearing = &engine.BudgetClearing{VisitTypes: vts, SurplusRetention: b.SurplusRetention, MinUtilization: b.MinUtilization,
			OverspendShare: b.OverspendShare, OverspendTolerance: b.OverspendTolerance}
	}
	p.Contribution, err = d.Contribution.contribution()
	keep(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}
