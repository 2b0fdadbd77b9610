package engine

// Scheme is the insurance scheme a person is enrolled in.
type Scheme int

// Schemes.
const (
	SchemeUnspecified Scheme = iota
	SchemeEmployee
	SchemeResident
)

// Employment is an employee's status; residents have none.
type Employment int

// Employment statuses.
const (
	EmploymentAny Employment = iota
	EmploymentEmployed
	EmploymentRetired
)

// Category is a person's population for catastrophic insurance and aid.
type Category int

// Person categories; CategoryOrdinary also stands for unspecified.
const (
	CategoryUnspecified Category = iota
	CategoryOrdinary
	CategoryDestitute
	CategoryMinimumLiving
	CategoryMonitored
	CategoryPovertyAlleviated
)

// VisitType is the kind of care a claim is for.
type VisitType int

// Visit types.
const (
	VisitUnspecified VisitType = iota
	VisitInpatient
	VisitChronicOutpatient
	VisitOutpatient
)

// VisitTypes lists the visit types in their canonical order.
var VisitTypes = []VisitType{VisitInpatient, VisitChronicOutpatient, VisitOutpatient}

// ItemCategory is a catalog category (甲/乙/丙类).
type ItemCategory int

// Catalog categories.
const (
	ItemUnspecified ItemCategory = iota
	ItemA
	ItemB
	ItemC
)

// UnknownItem says what happens to a line item absent from the catalog.
type UnknownItem int

// Unknown item treatments; unspecified is treated as self-pay.
const (
	UnknownItemUnspecified UnknownItem = iota
	UnknownItemSelfPay
	UnknownItemReject
)

// Accumulation says whether a benefit restarts at each visit or runs over the year.
type Accumulation int

// Accumulation modes.
const (
	AccumulationUnspecified Accumulation = iota
	AccumulationPerVisit
	AccumulationAnnual
)

// CrossRegion says whether care is given outside the insured region.
type CrossRegion int

// Cross-region states; unspecified is local.
const (
	CrossRegionUnspecified CrossRegion = iota
	CrossRegionLocal
	CrossRegionRegistered
	CrossRegionUnregistered
)

// Fund names the payer of a detail line.
type Fund int

// Funds, in the order detail lines are listed.
const (
	FundUnspecified Fund = iota
	FundBasic
	FundCatastrophic
	FundMedicalAid
	FundAidCeiling
)

// SettlementState is the life-cycle state of a settlement.
type SettlementState int

// Settlement states.
const (
	StateUnspecified SettlementState = iota
	StatePreview
	StateSettled
	StateReversed
)

// BudgetState is an institution's budget usage state.
type BudgetState int

// Budget states.
const (
	BudgetUnspecified BudgetState = iota
	BudgetWithin
	BudgetWarning
	BudgetExceeded
)

// PointValueBasis says what a DRG point value is computed from.
type PointValueBasis int

// Point value bases.
const (
	PointValueUnspecified PointValueBasis = iota
	PointValueFundPlusPersonal
	PointValueFundOnly
)
