package api

import (
	"testing"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// enumPair is one engine constant and the proto value the api's casts
// map it to.
type enumPair struct {
	engine int
	proto  int32
}

// TestEngineEnumsEqualProto: the api maps enums by casting, so every
// engine enum constant must have the number of the proto value of the same
// meaning, and every proto value must have its engine constant (a value
// added to the proto without one fails here).
func TestEngineEnumsEqualProto(t *testing.T) {
	enums := []struct {
		name  string
		names map[int32]string
		pairs []enumPair
	}{
		{"Scheme", pb.Scheme_name, []enumPair{
			{int(engine.SchemeUnspecified), int32(pb.Scheme_SCHEME_UNSPECIFIED)},
			{int(engine.SchemeEmployee), int32(pb.Scheme_SCHEME_EMPLOYEE)},
			{int(engine.SchemeResident), int32(pb.Scheme_SCHEME_RESIDENT)}}},
		{"Employment", pb.Employment_name, []enumPair{
			{int(engine.EmploymentAny), int32(pb.Employment_EMPLOYMENT_UNSPECIFIED)},
			{int(engine.EmploymentEmployed), int32(pb.Employment_EMPLOYMENT_EMPLOYED)},
			{int(engine.EmploymentRetired), int32(pb.Employment_EMPLOYMENT_RETIRED)}}},
		{"PersonCategory", pb.PersonCategory_name, []enumPair{
			{int(engine.CategoryUnspecified), int32(pb.PersonCategory_PERSON_CATEGORY_UNSPECIFIED)},
			{int(engine.CategoryOrdinary), int32(pb.PersonCategory_PERSON_CATEGORY_ORDINARY)},
			{int(engine.CategoryDestitute), int32(pb.PersonCategory_PERSON_CATEGORY_DESTITUTE)},
			{int(engine.CategoryMinimumLiving), int32(pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING)},
			{int(engine.CategoryMonitored), int32(pb.PersonCategory_PERSON_CATEGORY_MONITORED)},
			{int(engine.CategoryPovertyAlleviated), int32(pb.PersonCategory_PERSON_CATEGORY_POVERTY_ALLEVIATED)}}},
		{"VisitType", pb.VisitType_name, []enumPair{
			{int(engine.VisitUnspecified), int32(pb.VisitType_VISIT_TYPE_UNSPECIFIED)},
			{int(engine.VisitInpatient), int32(pb.VisitType_VISIT_TYPE_INPATIENT)},
			{int(engine.VisitChronicOutpatient), int32(pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT)},
			{int(engine.VisitOutpatient), int32(pb.VisitType_VISIT_TYPE_OUTPATIENT)}}},
		{"ItemCategory", pb.ItemCategory_name, []enumPair{
			{int(engine.ItemUnspecified), int32(pb.ItemCategory_ITEM_CATEGORY_UNSPECIFIED)},
			{int(engine.ItemA), int32(pb.ItemCategory_ITEM_CATEGORY_A)},
			{int(engine.ItemB), int32(pb.ItemCategory_ITEM_CATEGORY_B)},
			{int(engine.ItemC), int32(pb.ItemCategory_ITEM_CATEGORY_C)}}},
		{"UnknownItem", pb.UnknownItem_name, []enumPair{
			{int(engine.UnknownItemUnspecified), int32(pb.UnknownItem_UNKNOWN_ITEM_UNSPECIFIED)},
			{int(engine.UnknownItemSelfPay), int32(pb.UnknownItem_UNKNOWN_ITEM_SELF_PAY)},
			{int(engine.UnknownItemReject), int32(pb.UnknownItem_UNKNOWN_ITEM_REJECT)}}},
		{"Accumulation", pb.Accumulation_name, []enumPair{
			{int(engine.AccumulationUnspecified), int32(pb.Accumulation_ACCUMULATION_UNSPECIFIED)},
			{int(engine.AccumulationPerVisit), int32(pb.Accumulation_ACCUMULATION_PER_VISIT)},
			{int(engine.AccumulationAnnual), int32(pb.Accumulation_ACCUMULATION_ANNUAL)}}},
		{"CrossRegion", pb.CrossRegion_name, []enumPair{
			{int(engine.CrossRegionUnspecified), int32(pb.CrossRegion_CROSS_REGION_UNSPECIFIED)},
			{int(engine.CrossRegionLocal), int32(pb.CrossRegion_CROSS_REGION_LOCAL)},
			{int(engine.CrossRegionRegistered), int32(pb.CrossRegion_CROSS_REGION_REGISTERED)},
			{int(engine.CrossRegionUnregistered), int32(pb.CrossRegion_CROSS_REGION_UNREGISTERED)}}},
		{"Fund", pb.Fund_name, []enumPair{
			{int(engine.FundUnspecified), int32(pb.Fund_FUND_UNSPECIFIED)},
			{int(engine.FundBasic), int32(pb.Fund_FUND_BASIC)},
			{int(engine.FundCatastrophic), int32(pb.Fund_FUND_CATASTROPHIC)},
			{int(engine.FundMedicalAid), int32(pb.Fund_FUND_MEDICAL_AID)},
			{int(engine.FundAidCeiling), int32(pb.Fund_FUND_AID_CEILING)}}},
		{"SettlementState", pb.SettlementState_name, []enumPair{
			{int(engine.StateUnspecified), int32(pb.SettlementState_SETTLEMENT_STATE_UNSPECIFIED)},
			{int(engine.StatePreview), int32(pb.SettlementState_SETTLEMENT_STATE_PREVIEW)},
			{int(engine.StateSettled), int32(pb.SettlementState_SETTLEMENT_STATE_SETTLED)},
			{int(engine.StateReversed), int32(pb.SettlementState_SETTLEMENT_STATE_REVERSED)}}},
		{"BudgetState", pb.BudgetState_name, []enumPair{
			{int(engine.BudgetUnspecified), int32(pb.BudgetState_BUDGET_STATE_UNSPECIFIED)},
			{int(engine.BudgetWithin), int32(pb.BudgetState_BUDGET_STATE_WITHIN)},
			{int(engine.BudgetWarning), int32(pb.BudgetState_BUDGET_STATE_WARNING)},
			{int(engine.BudgetExceeded), int32(pb.BudgetState_BUDGET_STATE_EXCEEDED)}}},
		{"PointValueBasis", pb.PointValueBasis_name, []enumPair{
			{int(engine.PointValueUnspecified), int32(pb.PointValueBasis_POINT_VALUE_BASIS_UNSPECIFIED)},
			{int(engine.PointValueFundPlusPersonal), int32(pb.PointValueBasis_POINT_VALUE_BASIS_FUND_PLUS_PERSONAL)},
			{int(engine.PointValueFundOnly), int32(pb.PointValueBasis_POINT_VALUE_BASIS_FUND_ONLY)}}},
		{"ClearingKind", pb.ClearingKind_name, []enumPair{
			{int(engine.ClearingUnspecified), int32(pb.ClearingKind_CLEARING_KIND_UNSPECIFIED)},
			{int(engine.ClearingDRG), int32(pb.ClearingKind_CLEARING_KIND_DRG)},
			{int(engine.ClearingBudget), int32(pb.ClearingKind_CLEARING_KIND_BUDGET)},
			{int(engine.ClearingCapitation), int32(pb.ClearingKind_CLEARING_KIND_CAPITATION)}}},
		{"CostKind", pb.CostKind_name, []enumPair{
			{int(engine.CostUnspecified), int32(pb.CostKind_COST_KIND_UNSPECIFIED)},
			{int(engine.CostNormal), int32(pb.CostKind_COST_KIND_NORMAL)},
			{int(engine.CostHigh), int32(pb.CostKind_COST_KIND_HIGH)},
			{int(engine.CostLow), int32(pb.CostKind_COST_KIND_LOW)}}},
	}
	for _, e := range enums {
		if len(e.pairs) != len(e.names) {
			t.Errorf("%s: the proto has %d values, the test pairs %d engine constants: pair the new one", e.name, len(e.names), len(e.pairs))
		}
		for _, p := range e.pairs {
			if int32(p.engine) != p.proto {
				t.Errorf("%s: engine constant %d is proto %s (%d): the api's cast maps it wrong", e.name, p.engine, e.names[p.proto], p.proto)
			}
		}
	}
}
