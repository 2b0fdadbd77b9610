package api

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// TestClearingModel is a black-box acceptance model of CLEARING.md and
// API.md "Clearing". A seeded generator settles a random history through
// the gRPC API (three regions, both schemes, institutions of levels 1–3
// with and without budgets, cross-region care, inpatient, chronic and
// outpatient claims with and without DRG codes, codes that the policy in
// force on period_to no longer has, reversals, a policy version change
// mid-year, dates at the edges of periods), enrols capitation members
// before and after their settlements, and runs DRG, BUDGET and
// CAPITATION clearing as drafts and finals, twice. Every summary,
// statement, enrolment and reconciliation is compared, field for field,
// with what an independent implementation of the spec's text computes
// here with big.Rat (it calls no engine clearing code). Runs a draft
// replaced must answer NOT_FOUND; the runs that remain, finals first,
// must still answer what they answered when made. MEDSETTLE_SEED replays
// a seed.
func TestClearingModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MEDSETTLE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("MEDSETTLE_SEED: %v", err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rerun with MEDSETTLE_SEED=%d", seed)
		}
	})
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			m := newClearingModel(t, seed)
			m.start(newStore(t, kind))
			m.play()
		})
	}
}

// ---- the model's arithmetic: big.Rat, the spec's one rounding rule ----

func mrat(s string) *big.Rat {
	if s == "" {
		return new(big.Rat)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(fmt.Sprintf("not a decimal: %q", s))
	}
	return r
}

func mcopy(r *big.Rat) *big.Rat { return new(big.Rat).Set(r) }

func madd(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }

func msub(a, b *big.Rat) *big.Rat { return new(big.Rat).Sub(a, b) }

func mmul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }

func mmin(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return mcopy(a)
	}
	return mcopy(b)
}

func mpow10(n int) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
}

// mfloorInt is the largest integer ≤ r.
func mfloorInt(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

// mround rounds half away from zero to places decimals.
func mround(r *big.Rat, places int) *big.Rat {
	scaled := mmul(new(big.Rat).Abs(r), mpow10(places))
	n := mfloorInt(madd(scaled, big.NewRat(1, 2)))
	if r.Sign() < 0 {
		n.Neg(n)
	}
	return new(big.Rat).Quo(new(big.Rat).SetInt(n), mpow10(places))
}

// mfix formats r, which must have at most places decimals, with exactly
// places decimals.
func mfix(r *big.Rat, places int) string {
	if mround(r, places).Cmp(r) != 0 {
		panic(fmt.Sprintf("%s has more than %d decimals", r.RatString(), places))
	}
	return r.FloatString(places)
}

func mmoney(r *big.Rat) string { return mfix(r, 2) }

// mlargestRemainder rounds exact parts to the fen so that they add up to
// total: floors first (toward −∞), then one fen each to the largest
// remainders, ties to the smaller key in byte order.
func mlargestRemainder(total *big.Rat, keys []string, exact []*big.Rat) []*big.Rat {
	hundred := mpow10(2)
	floors := make([]*big.Int, len(exact))
	rems := make([]*big.Rat, len(exact))
	given := new(big.Int)
	for i, e := range exact {
		s := mmul(e, hundred)
		floors[i] = mfloorInt(s)
		rems[i] = msub(s, new(big.Rat).SetInt(floors[i]))
		given.Add(given, floors[i])
	}
	left := new(big.Int).Sub(mfloorInt(mmul(total, hundred)), given)
	order := make([]int, len(exact))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if c := rems[order[a]].Cmp(rems[order[b]]); c != 0 {
			return c > 0
		}
		return keys[order[a]] < keys[order[b]]
	})
	for k := int64(0); k < left.Int64(); k++ {
		floors[order[k]].Add(floors[order[k]], big.NewInt(1))
	}
	out := make([]*big.Rat, len(exact))
	for i, f := range floors {
		out[i] = new(big.Rat).Quo(new(big.Rat).SetInt(f), hundred)
	}
	return out
}

// ---- the model's world ----

type cmPerson struct {
	id, region string
	scheme     pb.Scheme
}

type cmInst struct {
	id, region string
	level      int32
	budgets    map[int32]string
}

type cmSettlement struct {
	id, reqID, inst, person string
	polRegion               string
	polScheme               pb.Scheme
	vt                      pb.VisitType
	date, drg               string
	total, basic, personal  *big.Rat
	fund, account           *big.Rat
	reversed                bool
}

type cmGroup struct {
	code      string
	base, avg *big.Rat
}

type cmCoef struct {
	inst  string
	level int32
	k     *big.Rat
}

type cmHigh struct{ upTo, ratio *big.Rat } // upTo nil on the last row

type cmDRG struct {
	groups       []cmGroup
	coefs        []cmCoef
	highs        []cmHigh
	low, reserve *big.Rat // nil: unset
	fundOnly     bool
}

type cmBC struct {
	vts                            []pb.VisitType
	retention, minUtil, share, tol *big.Rat
}

type cmPolicy struct {
	region   string
	scheme   pb.Scheme
	from, to string
	drg      *cmDRG
	bc       *cmBC
}

type cmComponent struct {
	name string
	rate *big.Rat
	vts  []pb.VisitType
}

type cmShare struct {
	party string
	share *big.Rat
}

type cmContract struct {
	id, lead, region string
	scheme           pb.Scheme
	year             int32
	comps            []cmComponent
	shares           []cmShare
	share, tol       *big.Rat
	members          map[string]bool
}

// cmRun is a run the server made, with what the model expects of it.
type cmRun struct {
	id, key, scope string
	kind           pb.ClearingKind
	from, to       string
	final          bool
	summary        *pb.ClearingSummary
	statements     map[string]*pb.Statement // by institution; DRG and BUDGET
	what           string
}

type clearingModel struct {
	t    *testing.T
	seed uint64
	rng  *rand.Rand
	c    *clearingTS

	regions   []string
	switchDay map[string]string // region → the last day of policy 2026.1
	policies  []*cmPolicy
	persons   map[string]*cmPerson
	personIDs []string
	insts     map[string]*cmInst
	instIDs   []string
	sets      []*cmSettlement
	contracts map[string]*cmContract
	conIDs    []string
	enrolled  map[string]string // person|year → contract
	nreq      int

	runs   []*cmRun
	drafts map[string]*cmRun // run key → the live draft
	// seen counts what the scenario exercised (logged with -v).
	seen map[string]int
}

func newClearingModel(t *testing.T, seed uint64) *clearingModel {
	return &clearingModel{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x6d6f64656c)),
		regions: []string{"RA", "RB", "RC"}, switchDay: map[string]string{},
		persons: map[string]*cmPerson{}, insts: map[string]*cmInst{},
		contracts: map[string]*cmContract{}, enrolled: map[string]string{}, drafts: map[string]*cmRun{}, seen: map[string]int{},
	}
}

func (m *clearingModel) pick(n int) int { return m.rng.IntN(n) }

func (m *clearingModel) chance(p float64) bool { return m.rng.Float64() < p }

func pickOf[T any](m *clearingModel, xs []T) T { return xs[m.pick(len(xs))] }

// start serves st with tokens for admin, clearing and every institution
// the scenario may register.
func (m *clearingModel) start(st store.Store) {
	roles := map[string]string{adminToken: "admin", clearingToken: "clearing"}
	for _, r := range m.regions {
		for i := 1; i <= 4; i++ {
			id := fmt.Sprintf("%s-H%d", r, i)
			roles[institutionToken(id)] = "institution:" + id
		}
	}
	ts := startServerOn(m.t, st, roles)
	m.c = &clearingTS{testServer: ts, t: m.t, clearing: pb.NewClearingServiceClient(ts.conn)}
}

// play is the scenario: registry and policies, enrolments, settlements,
// runs; then more enrolments, settlements, reversals and registry changes,
// and the runs again; reconciliations; and the stored runs read back.
func (m *clearingModel) play() {
	t := m.t
	m.setup()
	m.enrollRound()
	for range 220 {
		m.settleOne()
	}
	for range 25 {
		m.reverseOne()
	}
	m.runRound(1)
	for range 8 {
		m.reconcileOne()
	}
	m.enrollRound()
	m.changeRegistry()
	for range 90 {
		m.settleOne()
	}
	for range 20 {
		m.reverseOne()
	}
	m.runRound(2)
	for range 12 {
		m.reconcileOne()
	}
	m.checkStored()
	t.Logf("%d settlements, %d runs; exercised: %v", len(m.sets), len(m.runs), m.seen)
}

// ---- scenario: registry, policies, contracts ----

var cmDates2026Edges = []string{"2026-01-01", "2026-03-31", "2026-04-01", "2026-06-30", "2026-07-01", "2026-09-30", "2026-10-01", "2026-12-31"}

func cmDate(t time.Time) string { return t.Format("2006-01-02") }

func cmParseDate(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func cmNextDay(s string) string { return cmDate(cmParseDate(s).AddDate(0, 0, 1)) }

// randomDay2026 is a day of 2026.
func (m *clearingModel) randomDay2026() string {
	return cmDate(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, m.pick(365)))
}

func (m *clearingModel) setup() {
	for _, r := range m.regions {
		// Policy 2026.1 ends on a day between April and September.
		m.switchDay[r] = cmDate(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, m.pick(183)))
		for i := 1; i <= 3; i++ {
			m.putInst(&cmInst{id: fmt.Sprintf("%s-H%d", r, i), region: r, level: int32(1 + m.pick(3)), budgets: map[int32]string{}})
		}
		for i := 1; i <= 3; i++ {
			m.putPerson(&cmPerson{id: fmt.Sprintf("%s-E%d", r, i), region: r, scheme: employee})
			m.putPerson(&cmPerson{id: fmt.Sprintf("%s-Q%d", r, i), region: r, scheme: resident})
		}
	}
	for _, r := range m.regions {
		for _, s := range []pb.Scheme{employee, resident} {
			d := m.switchDay[r]
			m.putPolicy(r, s, "2025.1", "2025-01-01", "2025-12-31", []string{"G1", "G2", "G3"}, true, true)
			m.putPolicy(r, s, "2026.1", "2026-01-01", d, []string{"G1", "G2", "G3", "OLD"}, !m.chance(0.1), !m.chance(0.1))
			m.putPolicy(r, s, "2026.2", cmNextDay(d), "2026-12-31", []string{"G1", "G2", "G3", "NEW"}, !m.chance(0.15), !m.chance(0.15))
		}
	}
	for _, r := range m.regions {
		m.putContract(m.newContract(r+"-K1", r, employee, 2026))
		m.putContract(m.newContract(r+"-K2", r, pickOf(m, []pb.Scheme{employee, resident}), 2026))
	}
	m.putContract(m.newContract("RA-K0", "RA", employee, 2025))
}

func (m *clearingModel) putInst(in *cmInst) {
	m.t.Helper()
	p := &pb.Institution{InstitutionId: in.id, Name: in.id, Region: in.region, Level: in.level}
	years := make([]int, 0, len(in.budgets))
	for y := range in.budgets {
		years = append(years, int(y))
	}
	sort.Ints(years)
	for _, y := range years {
		p.Budgets = append(p.Budgets, &pb.Budget{Year: int32(y), Amount: in.budgets[int32(y)]})
	}
	must(m.t, grpcReplayer{m.c.testServer}.putInstitution(p))
	if _, ok := m.insts[in.id]; !ok {
		m.instIDs = append(m.instIDs, in.id)
	}
	m.insts[in.id] = in
}

func (m *clearingModel) putPerson(p *cmPerson) {
	m.t.Helper()
	pp := &pb.Person{PersonId: p.id, Name: p.id, Region: p.region, Scheme: p.scheme, ContributionYears: 12}
	if p.scheme == employee {
		pp.Employment = pb.Employment_EMPLOYMENT_EMPLOYED
		pp.AccountBalance = "3000.00"
	}
	must(m.t, grpcReplayer{m.c.testServer}.putPerson(pp))
	m.persons[p.id] = p
	m.personIDs = append(m.personIDs, p.id)
}

// putPolicy registers one policy version with random drg and
// budget_clearing sections (when withDRG, withBC).
func (m *clearingModel) putPolicy(region string, scheme pb.Scheme, version, from, to string, codes []string, withDRG, withBC bool) {
	m.t.Helper()
	p := &pb.Policy{
		Region: region, Scheme: scheme, Version: version, EffectiveFrom: from, EffectiveTo: to,
		UnknownItem: pb.UnknownItem_UNKNOWN_ITEM_REJECT, UnregisteredRatioCut: "0.1",
		Catalog: []*pb.CatalogEntry{
			{Code: "A-ITEM", Category: pb.ItemCategory_ITEM_CATEGORY_A},
			{Code: "B-ITEM", Category: pb.ItemCategory_ITEM_CATEGORY_B, SelfPayRatio: "0.1"},
			{Code: "C-ITEM", Category: pb.ItemCategory_ITEM_CATEGORY_C},
		},
	}
	for _, vt := range []pb.VisitType{inpatient, chronic, outpatient} {
		b := &pb.Benefit{VisitType: vt, Accumulation: pb.Accumulation_ACCUMULATION_PER_VISIT}
		for level := int32(1); level <= 3; level++ {
			b.Rates = append(b.Rates, &pb.RateRow{Level: level, Schedule: &pb.Schedule{Bands: []*pb.Band{{Ratio: pickOf(m, []string{"0.7", "0.8", "0.85", "0.9", "1"})}}}})
		}
		p.Benefits = append(p.Benefits, b)
	}
	cp := &cmPolicy{region: region, scheme: scheme, from: from, to: to}
	if withDRG {
		p.Drg, cp.drg = m.randomDRG(codes)
	}
	if withBC {
		p.BudgetClearing, cp.bc = m.randomBC()
	}
	must(m.t, grpcReplayer{m.c.testServer}.putPolicy(p))
	m.policies = append(m.policies, cp)
}

func (m *clearingModel) randomDRG(codes []string) (*pb.Drg, *cmDRG) {
	d := &pb.Drg{}
	md := &cmDRG{}
	for _, code := range codes {
		base := pickOf(m, []string{"100", "250", "400", "57.5", "1000", "12.3456", "300", "99.9999"})
		avg := strconv.Itoa(2000 + 500*m.pick(76))
		if m.chance(0.25) {
			avg += fmt.Sprintf(".%02d", m.pick(100))
		}
		d.Groups = append(d.Groups, &pb.DrgGroup{Code: code, BasePoints: base, AverageCost: avg})
		md.groups = append(md.groups, cmGroup{code: code, base: mrat(base), avg: mrat(avg)})
	}
	ks := []string{"1.1", "0.95", "1", "1.2345", "0.8", "1.05", "0.9"}
	for level := int32(1); level <= 3; level++ {
		if m.chance(0.6) {
			d.Coefficients = append(d.Coefficients, &pb.DrgCoefficient{Level: level, Coefficient: pickOf(m, ks)})
		}
	}
	for range m.pick(3) {
		d.Coefficients = append(d.Coefficients, &pb.DrgCoefficient{InstitutionId: fmt.Sprintf("%s-H%d", pickOf(m, m.regions), 1+m.pick(4)), Coefficient: pickOf(m, ks)})
	}
	m.rng.Shuffle(len(d.Coefficients), func(i, j int) { d.Coefficients[i], d.Coefficients[j] = d.Coefficients[j], d.Coefficients[i] })
	if len(d.Coefficients) > 0 && m.chance(0.3) {
		// The same institution or level twice: the first row counts.
		dup := proto.Clone(pickOf(m, d.Coefficients)).(*pb.DrgCoefficient)
		dup.Coefficient = pickOf(m, ks)
		d.Coefficients = append(d.Coefficients, dup)
	}
	for _, k := range d.Coefficients {
		md.coefs = append(md.coefs, cmCoef{inst: k.GetInstitutionId(), level: k.GetLevel(), k: mrat(k.GetCoefficient())})
	}
	switch m.pick(5) {
	case 0: // no high-cost case
	case 1:
		d.HighThresholds = []*pb.DrgHighThreshold{{Ratio: "2.5"}}
	case 2:
		d.HighThresholds = []*pb.DrgHighThreshold{{UpToPoints: "250", Ratio: "2"}, {Ratio: "1.8"}}
	default:
		d.HighThresholds = []*pb.DrgHighThreshold{{UpToPoints: "100", Ratio: "3"}, {UpToPoints: "300", Ratio: "2"}, {Ratio: "1.5"}}
	}
	for _, h := range d.HighThresholds {
		row := cmHigh{ratio: mrat(h.GetRatio())}
		if h.GetUpToPoints() != "" {
			row.upTo = mrat(h.GetUpToPoints())
		}
		md.highs = append(md.highs, row)
	}
	if !m.chance(0.3) {
		d.LowRatio = pickOf(m, []string{"0.4", "0.25", "0.5"})
		md.low = mrat(d.LowRatio)
	}
	if !m.chance(0.3) {
		d.ReserveRatio = pickOf(m, []string{"0.05", "0.1", "0.0333"})
		md.reserve = mrat(d.ReserveRatio)
	}
	d.PointValueBasis = pickOf(m, []pb.PointValueBasis{pb.PointValueBasis_POINT_VALUE_BASIS_UNSPECIFIED,
		pb.PointValueBasis_POINT_VALUE_BASIS_FUND_PLUS_PERSONAL, pb.PointValueBasis_POINT_VALUE_BASIS_FUND_ONLY})
	md.fundOnly = d.PointValueBasis == pb.PointValueBasis_POINT_VALUE_BASIS_FUND_ONLY
	return d, md
}

func (m *clearingModel) randomBC() (*pb.BudgetClearing, *cmBC) {
	b := &pb.BudgetClearing{
		SurplusRetention:   pickOf(m, []string{"0.5", "0.3", "1", "0", ""}),
		MinUtilization:     pickOf(m, []string{"0.85", "0.9", ""}),
		OverspendShare:     pickOf(m, []string{"0.5", "0.6", "0.25"}),
		OverspendTolerance: pickOf(m, []string{"0.1", "0.05", "0.2"}),
	}
	for _, vt := range []pb.VisitType{inpatient, chronic, outpatient} {
		if m.chance(0.6) {
			b.VisitTypes = append(b.VisitTypes, vt)
		}
	}
	if len(b.VisitTypes) == 0 {
		b.VisitTypes = []pb.VisitType{inpatient}
	}
	return b, &cmBC{vts: b.VisitTypes, retention: mrat(b.SurplusRetention), minUtil: mrat(b.MinUtilization),
		share: mrat(b.OverspendShare), tol: mrat(b.OverspendTolerance)}
}

func (m *clearingModel) newContract(id, region string, scheme pb.Scheme, year int32) *pb.CapitationContract {
	k := &pb.CapitationContract{
		ContractId: id, InstitutionId: pickOf(m, m.instIDs), Region: region, Scheme: scheme, Year: year,
		OverspendShare: pickOf(m, []string{"0.5", "0.3333", "1", "0", ""}), OverspendTolerance: pickOf(m, []string{"0.1", "0.2", "1", ""}),
	}
	var vts []pb.VisitType
	for _, vt := range []pb.VisitType{inpatient, chronic, outpatient} {
		if m.chance(0.7) {
			vts = append(vts, vt)
		}
	}
	if len(vts) == 0 {
		vts = []pb.VisitType{inpatient}
	}
	m.rng.Shuffle(len(vts), func(i, j int) { vts[i], vts[j] = vts[j], vts[i] })
	cut := 1 + m.pick(len(vts))
	for i, part := range [][]pb.VisitType{vts[:cut], vts[cut:]} {
		if len(part) == 0 {
			continue
		}
		rate := strconv.Itoa(200 + m.pick(6000))
		if m.chance(0.4) {
			rate += fmt.Sprintf(".%02d", m.pick(100))
		}
		k.Components = append(k.Components, &pb.CapitationComponent{Name: fmt.Sprintf("part %d", i+1), Rate: rate, VisitTypes: part})
	}
	parties := []string{"county", "township", "village", "clinic"}
	m.rng.Shuffle(len(parties), func(i, j int) { parties[i], parties[j] = parties[j], parties[i] })
	parties = parties[:1+m.pick(3)]
	left := 10000
	for i, p := range parties {
		w := left
		if i < len(parties)-1 {
			w = m.pick(left + 1)
		}
		left -= w
		k.Shares = append(k.Shares, &pb.CapitationShare{Party: p, Share: new(big.Rat).SetFrac64(int64(w), 10000).FloatString(4)})
	}
	return k
}

func (m *clearingModel) putContract(k *pb.CapitationContract) {
	m.t.Helper()
	_, err := m.c.putContract(clearingToken, k)
	must(m.t, err)
	con := m.contracts[k.GetContractId()]
	if con == nil {
		con = &cmContract{members: map[string]bool{}}
		m.contracts[k.GetContractId()] = con
		m.conIDs = append(m.conIDs, k.GetContractId())
	}
	con.id, con.lead, con.region, con.scheme, con.year = k.GetContractId(), k.GetInstitutionId(), k.GetRegion(), k.GetScheme(), k.GetYear()
	con.share, con.tol = mrat(k.GetOverspendShare()), mrat(k.GetOverspendTolerance())
	con.comps, con.shares = nil, nil
	for _, c := range k.GetComponents() {
		con.comps = append(con.comps, cmComponent{name: c.GetName(), rate: mrat(c.GetRate()), vts: c.GetVisitTypes()})
	}
	for _, s := range k.GetShares() {
		con.shares = append(con.shares, cmShare{party: s.GetParty(), share: mrat(s.GetShare())})
	}
}

// changeRegistry changes what runs read from the registry when they
// read it: a level, an institution's region, a new institution with a
// budget and no settlement, a contract's rates.
func (m *clearingModel) changeRegistry() {
	in := m.insts[pickOf(m, m.instIDs)]
	moved := *in
	moved.level = 1 + (in.level % 3)
	m.putInst(&moved)
	if in := m.insts["RB-H3"]; m.chance(0.5) {
		moved := *in
		moved.region = "RC"
		m.putInst(&moved)
	}
	m.putInst(&cmInst{id: "RA-H4", region: "RA", level: 2, budgets: map[int32]string{2026: "12345.67"}})
	id := pickOf(m, m.conIDs)
	con := m.contracts[id]
	k := m.newContract(id, con.region, con.scheme, con.year)
	m.putContract(k)
}

// ---- scenario: settlements ----

// policyOn is the policy of (region, scheme) in force on date, or nil.
func (m *clearingModel) policyOn(region string, scheme pb.Scheme, date string) *cmPolicy {
	for _, p := range m.policies {
		if p.region == region && p.scheme == scheme && p.from <= date && date <= p.to {
			return p
		}
	}
	return nil
}

func (m *clearingModel) settleOne() {
	t := m.t
	t.Helper()
	p := m.persons[pickOf(m, m.personIDs)]
	var local []string
	for _, id := range m.instIDs {
		if m.insts[id].region == p.region {
			local = append(local, id)
		}
	}
	inst := pickOf(m, m.instIDs)
	if len(local) > 0 && m.chance(0.75) {
		inst = pickOf(m, local)
	}
	vt := pickOf(m, []pb.VisitType{inpatient, inpatient, inpatient, chronic, outpatient})
	var date string
	switch d := m.switchDay[p.region]; m.pick(10) {
	case 0, 1, 2:
		date = pickOf(m, append([]string{d, cmNextDay(d), "2025-12-31", "2025-07-15"}, cmDates2026Edges...))
	default:
		date = m.randomDay2026()
	}
	pol := m.policyOn(p.region, p.scheme, date)
	drg := ""
	total := mrat(strconv.Itoa(100 + m.pick(30000)))
	if vt == inpatient && pol.drg != nil && m.chance(0.85) {
		g := pickOf(m, pol.drg.groups)
		drg = g.code
		var f *big.Rat
		switch m.pick(6) {
		case 0:
			f = mrat(pickOf(m, []string{"0.4", "0.25", "0.5", "1.5", "1.8", "2", "2.5", "3"})) // at a threshold
		case 1:
			f = mrat(pickOf(m, []string{"0.05", "0.3", "3.7", "5.2"}))
		default:
			f = new(big.Rat).SetFrac64(int64(30+m.pick(200)), 100)
		}
		total = mround(mmul(g.avg, f), 2)
		if m.chance(0.02) {
			total = new(big.Rat) // r = 0: low-cost when low_ratio is set, at 0 points
		}
	}
	// total = A + B + C, each part > 0 when present.
	fen := mfloorInt(mmul(total, mpow10(2))).Int64()
	var parts []int64
	switch {
	case fen >= 3 && m.chance(0.5):
		c := 1 + m.rng.Int64N(fen/3)
		b := 1 + m.rng.Int64N(fen/3)
		parts = []int64{fen - b - c, b, c}
	case fen >= 2 && m.chance(0.5):
		c := 1 + m.rng.Int64N(fen/2)
		parts = []int64{fen - c, 0, c}
	default:
		parts = []int64{fen, 0, 0}
	}
	m.nreq++
	req := &pb.SettleRequest{RequestId: fmt.Sprintf("mq%04d", m.nreq), InstitutionId: inst, PersonId: p.id, VisitType: vt,
		SettleDate: date, DrgCode: drg, UsePersonalAccount: p.scheme == employee && m.chance(0.5)}
	for i, code := range []string{"A-ITEM", "B-ITEM", "C-ITEM"} {
		if parts[i] > 0 || (i == 0 && fen == 0) {
			a := new(big.Rat).SetFrac64(parts[i], 100).FloatString(2)
			req.Items = append(req.Items, &pb.LineItem{Code: code, Name: code, Quantity: "1", UnitPrice: a, Amount: a})
		}
	}
	s, err := grpcReplayer{m.c.testServer}.settle(inst, req, true)
	if err != nil {
		t.Fatalf("settle %v: %v", req, err)
	}
	b := s.GetBreakdown()
	m.sets = append(m.sets, &cmSettlement{
		id: s.GetSettlementId(), reqID: req.GetRequestId(), inst: inst, person: p.id,
		polRegion: p.region, polScheme: p.scheme, vt: vt, date: date, drg: drg,
		total: mrat(b.GetTotal()), basic: mrat(b.GetBasicFund()), personal: mrat(b.GetPersonalTotal()),
		fund: mrat(b.GetFundTotal()), account: mrat(b.GetAccount()),
	})
	if got := mrat(b.GetTotal()); got.Cmp(total) != 0 {
		t.Fatalf("settlement %s: total %s, sent %s", req.GetRequestId(), b.GetTotal(), total.FloatString(2))
	}
}

func (m *clearingModel) reverseOne() {
	m.t.Helper()
	s := pickOf(m, m.sets)
	if s.reversed {
		return
	}
	_, err := grpcReplayer{m.c.testServer}.reverse(s.inst, &pb.ReverseSettlementRequest{RequestId: "rv-" + s.reqID, SettlementId: s.id, Reason: "model"})
	must(m.t, err)
	s.reversed = true
}

// ---- scenario: enrolment ----

func (m *clearingModel) enrollRound() {
	t := m.t
	for _, id := range m.conIDs {
		var persons []string
		for _, p := range m.personIDs {
			if m.chance(0.35) {
				persons = append(persons, p)
			}
		}
		if m.chance(0.5) {
			persons = append(persons, "NOBODY")
		}
		if len(persons) > 0 && m.chance(0.5) {
			persons = append(persons, pickOf(m, persons))
		}
		m.rng.Shuffle(len(persons), func(i, j int) { persons[i], persons[j] = persons[j], persons[i] })
		con := m.contracts[id]
		var wantEnrolled int64
		var wantRejected []int64
		for i, pid := range persons {
			key := fmt.Sprintf("%s|%d", pid, con.year)
			p, known := m.persons[pid]
			switch {
			case con.members[pid]:
				wantEnrolled++
			case !known, p.region != con.region, p.scheme != con.scheme:
				wantRejected = append(wantRejected, int64(i))
			case m.enrolled[key] != "" && m.enrolled[key] != id:
				wantRejected = append(wantRejected, int64(i))
			default:
				con.members[pid] = true
				m.enrolled[key] = id
				wantEnrolled++
			}
		}
		pairs := make([][2]string, len(persons))
		for i, p := range persons {
			pairs[i] = [2]string{id, p}
		}
		resp, err := m.c.enroll(clearingToken, pairs...)
		must(t, err)
		var got []int64
		for _, r := range resp.GetRejections() {
			got = append(got, r.GetIndex())
		}
		if resp.GetEnrolled() != wantEnrolled || resp.GetRejected() != int64(len(wantRejected)) || fmt.Sprint(got) != fmt.Sprint(wantRejected) {
			t.Errorf("enrol %v in %s: enrolled %d, rejected %v; want %d, %v", persons, id, resp.GetEnrolled(), got, wantEnrolled, wantRejected)
		}
		ctx, cancel := as(clearingToken)
		k, err := m.c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: id})
		cancel()
		must(t, err)
		if k.GetContract().GetMembers() != int64(len(con.members)) {
			t.Errorf("contract %s has %d members, want %d", id, k.GetContract().GetMembers(), len(con.members))
		}
	}
}

// ---- runs ----

// runRound runs every kind of clearing: DRG of every region and scheme
// over the year, up to the policy change and over a random period (and
// 2025 for RA), BUDGET of every region (with budgets set around what the
// institutions claimed), capitation of every contract; some final.
func (m *clearingModel) runRound(round int) {
	finalP := 0.2 * float64(round)
	budget := func() string {
		return new(big.Rat).SetFrac64(int64(1_000_000+m.pick(500_000_000)), 100).FloatString(2)
	}
	type runReq struct {
		req  *pb.RunClearingRequest
		what string
	}
	var reqs []runReq
	for _, r := range m.regions {
		for _, s := range []pb.Scheme{employee, resident} {
			d := m.switchDay[r]
			a, b := m.randomDay2026(), m.randomDay2026()
			if a > b {
				a, b = b, a
			}
			for _, p := range [][2]string{{"", ""}, {"2026-01-01", d}, {cmNextDay(d), "2026-12-31"}, {a, b}, {"", d}} {
				reqs = append(reqs, runReq{&pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: r, Scheme: s, Year: 2026,
					PeriodFrom: p[0], PeriodTo: p[1], Budget: budget()}, fmt.Sprintf("DRG %s %s %s..%s", r, s, p[0], p[1])})
			}
		}
		for _, y := range []int32{2026, 2025} {
			reqs = append(reqs, runReq{&pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Region: r,
				Scheme: pickOf(m, []pb.Scheme{employee, resident}), Year: y}, fmt.Sprintf("BUDGET %s %d", r, y)})
		}
	}
	reqs = append(reqs, runReq{&pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: "RA", Scheme: employee, Year: 2025,
		Budget: budget()}, "DRG RA 2025"})
	for _, id := range m.conIDs {
		req := &pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_CAPITATION, ContractId: id}
		if m.chance(0.3) {
			req.Year, req.PeriodFrom, req.PeriodTo = m.contracts[id].year, fmt.Sprintf("%d-01-01", m.contracts[id].year), ""
		}
		reqs = append(reqs, runReq{req, "CAPITATION " + id})
	}
	m.rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	for _, rr := range reqs {
		rr.req.Final = m.chance(finalP)
		if rr.req.GetKind() == pb.ClearingKind_CLEARING_KIND_BUDGET {
			m.setBudgets(rr.req)
		}
		m.runAndCheck(rr.req, fmt.Sprintf("round %d: %s final=%v", round, rr.what, rr.req.GetFinal()))
	}
}

// setBudgets gives the region's institutions budgets for the run's year
// around what they claimed so far, so that every branch of budget
// clearing (and its edges) is taken; some keep none.
func (m *clearingModel) setBudgets(req *pb.RunClearingRequest) {
	pol := m.policyOn(req.GetRegion(), req.GetScheme(), fmt.Sprintf("%d-12-31", req.GetYear()))
	for _, id := range m.instIDs {
		in := m.insts[id]
		if in.region != req.GetRegion() || m.chance(0.3) {
			continue
		}
		c := new(big.Rat)
		if pol != nil && pol.bc != nil {
			c, _ = m.claimed(id, req.GetYear(), pol.bc.vts)
		}
		var g *big.Rat
		switch m.pick(4) {
		case 0:
			g = mrat(strconv.Itoa(1000 + m.pick(200000)))
		case 1:
			if pol != nil && pol.bc != nil && pol.bc.minUtil.Sign() > 0 {
				g = mround(new(big.Rat).Quo(c, pol.bc.minUtil), 2) // at min_utilization
				break
			}
			fallthrough
		default:
			g = mround(mmul(c, mrat(pickOf(m, []string{"0.8", "0.9", "0.95", "1", "1.05", "1.1", "1.2", "0.97"}))), 2)
		}
		moved := *in
		moved.budgets = map[int32]string{}
		for y, a := range in.budgets {
			moved.budgets[y] = a
		}
		if m.chance(0.1) {
			delete(moved.budgets, req.GetYear())
		} else {
			moved.budgets[req.GetYear()] = mmoney(g)
		}
		m.putInst(&moved)
	}
}

// counted reports whether a settlement is read by a run over [from, to].
func (s *cmSettlement) counted(from, to string) bool {
	return !s.reversed && from <= s.date && s.date <= to
}

// claimed is C: the basic fund of an institution's settlements of the
// visit types in year, and how many.
func (m *clearingModel) claimed(inst string, year int32, vts []pb.VisitType) (*big.Rat, int64) {
	c, n := new(big.Rat), int64(0)
	from, to := fmt.Sprintf("%d-01-01", year), fmt.Sprintf("%d-12-31", year)
	for _, s := range m.sets {
		if s.inst == inst && s.counted(from, to) && hasVT(vts, s.vt) {
			c.Add(c, s.basic)
			n++
		}
	}
	return c, n
}

func hasVT(vts []pb.VisitType, v pb.VisitType) bool {
	for _, x := range vts {
		if x == v {
			return true
		}
	}
	return false
}

// cmExpect is what the model says a run request gives.
type cmExpect struct {
	code       codes.Code
	summary    *pb.ClearingSummary
	statements map[string]*pb.Statement
	key, scope string
	from, to   string
}

func (m *clearingModel) expect(req *pb.RunClearingRequest) cmExpect {
	year := req.GetYear()
	if req.GetKind() == pb.ClearingKind_CLEARING_KIND_CAPITATION {
		year = m.contracts[req.GetContractId()].year
	}
	e := cmExpect{from: req.GetPeriodFrom(), to: req.GetPeriodTo()}
	if e.from == "" {
		e.from = fmt.Sprintf("%d-01-01", year)
	}
	if e.to == "" {
		e.to = fmt.Sprintf("%d-12-31", year)
	}
	switch req.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_DRG:
		e.scope = fmt.Sprintf("DRG|%s|%s", req.GetRegion(), req.GetScheme())
		m.expectDRG(req, &e)
	case pb.ClearingKind_CLEARING_KIND_BUDGET:
		e.scope = "BUDGET|" + req.GetRegion()
		m.expectBudget(req, &e)
	default:
		e.scope = "CAPITATION|" + req.GetContractId()
		m.expectCapitation(req, &e)
	}
	e.key = e.scope
	if req.GetKind() != pb.ClearingKind_CLEARING_KIND_CAPITATION {
		e.key += "|" + e.from + "|" + e.to
	}
	if req.GetFinal() {
		for _, r := range m.runs {
			if r.final && r.scope == e.scope && r.from <= e.to && e.from <= r.to {
				e.code = codes.FailedPrecondition
			}
		}
	}
	if e.code == codes.OK {
		for _, st := range e.statements {
			st.Final = req.GetFinal()
		}
		e.summary.Final = req.GetFinal()
	}
	return e
}

func (m *clearingModel) summaryHead(req *pb.RunClearingRequest, e *cmExpect, region string, scheme pb.Scheme, year int32) *pb.ClearingSummary {
	return &pb.ClearingSummary{Kind: req.GetKind(), Region: region, Scheme: scheme, Year: year, PeriodFrom: e.from, PeriodTo: e.to}
}

// coefficient is k: the first row naming the institution, else the
// first row of its level in the registry now, else 1.
func (d *cmDRG) coefficient(in *cmInst) *big.Rat {
	for _, c := range d.coefs {
		if c.inst == in.id {
			return c.k
		}
	}
	for _, c := range d.coefs {
		if c.inst == "" && c.level == in.level {
			return c.k
		}
	}
	return big.NewRat(1, 1)
}

// high is H for base points b: the first row whose up_to_points ≥ b, the
// last row unbounded; nil without rows.
func (d *cmDRG) high(b *big.Rat) *big.Rat {
	for _, h := range d.highs {
		if h.upTo == nil || h.upTo.Cmp(b) >= 0 {
			return h.ratio
		}
	}
	return nil
}

func (m *clearingModel) expectDRG(req *pb.RunClearingRequest, e *cmExpect) {
	pol := m.policyOn(req.GetRegion(), req.GetScheme(), e.to)
	if pol == nil || pol.drg == nil {
		e.code = codes.FailedPrecondition
		return
	}
	d := pol.drg
	groups := map[string]cmGroup{}
	for _, g := range d.groups {
		groups[g.code] = g
	}
	reserve := new(big.Rat)
	if d.reserve != nil {
		reserve = d.reserve
	}
	B := mround(mmul(mrat(req.GetBudget()), msub(big.NewRat(1, 1), reserve)), 2)
	type acc struct {
		cases                []*pb.StatementCase
		pts, personal, basic *big.Rat
	}
	accs := map[string]*acc{}
	var count, ungrouped int64
	ungroupedFund := new(big.Rat)
	T, P := new(big.Rat), new(big.Rat)
	for _, s := range m.sets {
		in := m.insts[s.inst]
		if !s.counted(e.from, e.to) || s.vt != inpatient || s.polRegion != req.GetRegion() || s.polScheme != req.GetScheme() || in.region != req.GetRegion() {
			continue
		}
		count++
		g, ok := groups[s.drg]
		if s.drg == "" || !ok {
			m.seen["ungrouped"]++
			if s.drg != "" {
				m.seen["ungrouped: a code the policy no longer has"]++
			}
			ungrouped++
			ungroupedFund.Add(ungroupedFund, s.basic)
			continue
		}
		k := d.coefficient(in)
		r := mround(new(big.Rat).Quo(s.total, g.avg), 4)
		H := d.high(g.base)
		var pts *big.Rat
		kind := pb.CostKind_COST_KIND_NORMAL
		switch {
		case H != nil && r.Cmp(H) > 0:
			kind = pb.CostKind_COST_KIND_HIGH
			pts = madd(mmul(g.base, k), mmul(g.base, msub(r, H)))
		case d.low != nil && d.low.Sign() > 0 && r.Cmp(d.low) <= 0:
			kind = pb.CostKind_COST_KIND_LOW
			pts = mmul(g.base, r)
		default:
			pts = mmul(g.base, k)
		}
		pts = mround(pts, 4)
		m.seen[kind.String()]++
		a := accs[s.inst]
		if a == nil {
			a = &acc{pts: new(big.Rat), personal: new(big.Rat), basic: new(big.Rat)}
			accs[s.inst] = a
		}
		a.pts.Add(a.pts, pts)
		a.basic.Add(a.basic, s.basic)
		if !d.fundOnly {
			a.personal.Add(a.personal, s.personal)
			P.Add(P, s.personal)
		}
		T.Add(T, pts)
		a.cases = append(a.cases, &pb.StatementCase{
			SettlementId: s.id, RequestId: s.reqID, SettleDate: s.date, DrgCode: s.drg, Total: mmoney(s.total),
			Ratio: mfix(r, 4), CostKind: kind, Points: mfix(pts, 4), PersonalTotal: mmoney(s.personal), BasicFund: mmoney(s.basic),
		})
	}
	sum := m.summaryHead(req, e, req.GetRegion(), req.GetScheme(), req.GetYear())
	sum.Settlements, sum.Ungrouped, sum.UngroupedBasicFund = count, ungrouped, mmoney(ungroupedFund)
	sum.Budget, sum.PersonalTotal, sum.TotalPoints = mmoney(B), mmoney(P), mfix(T, 4)
	sum.PointValue, sum.PaidTotal = "0.000000", "0.00"
	e.summary, e.statements = sum, map[string]*pb.Statement{}
	if T.Sign() == 0 {
		return
	}
	V := new(big.Rat).Quo(madd(B, P), T)
	sum.PointValue = mfix(mround(V, 6), 6)
	ids := make([]string, 0, len(accs))
	for id := range accs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	exact := make([]*big.Rat, len(ids))
	for i, id := range ids {
		exact[i] = msub(mmul(accs[id].pts, V), accs[id].personal)
	}
	pay := mlargestRemainder(B, ids, exact)
	paid := new(big.Rat)
	for i, id := range ids {
		a := accs[id]
		paid.Add(paid, pay[i])
		l := &pb.InstitutionClearing{InstitutionId: id, Cases: int64(len(a.cases)), Points: mfix(a.pts, 4), PersonalTotal: mmoney(a.personal),
			BasicFund: mmoney(a.basic), Payment: mmoney(pay[i]), Difference: mmoney(msub(pay[i], a.basic))}
		sum.Institutions = append(sum.Institutions, l)
		sort.Slice(a.cases, func(i, j int) bool { return a.cases[i].GetSettlementId() < a.cases[j].GetSettlementId() })
		e.statements[id] = &pb.Statement{Kind: req.GetKind(), Institution: l, Cases: a.cases}
	}
	if paid.Cmp(B) != 0 {
		panic("the model's payments do not add up to B")
	}
	sum.PaidTotal = mmoney(paid)
}

func (m *clearingModel) expectBudget(req *pb.RunClearingRequest, e *cmExpect) {
	pol := m.policyOn(req.GetRegion(), req.GetScheme(), e.to)
	if pol == nil || pol.bc == nil {
		e.code = codes.FailedPrecondition
		return
	}
	bc := pol.bc
	sum := m.summaryHead(req, e, req.GetRegion(), req.GetScheme(), req.GetYear())
	e.summary, e.statements = sum, map[string]*pb.Statement{}
	sumG, sumPaid := new(big.Rat), new(big.Rat)
	ids := append([]string(nil), m.instIDs...)
	sort.Strings(ids)
	for _, id := range ids {
		in := m.insts[id]
		gs, ok := in.budgets[req.GetYear()]
		if in.region != req.GetRegion() || !ok {
			continue
		}
		G := mrat(gs)
		C, n := m.claimed(id, req.GetYear(), bc.vts)
		retained, shared := new(big.Rat), new(big.Rat)
		var paid *big.Rat
		if C.Cmp(G) <= 0 {
			if C.Cmp(mmul(bc.minUtil, G)) >= 0 {
				retained = mround(mmul(bc.retention, msub(G, C)), 2)
				m.seen["BUDGET retained"]++
			}
			paid = madd(C, retained)
		} else {
			m.seen["BUDGET shared"]++
			shared = mround(mmul(bc.share, mmin(msub(C, G), mmul(bc.tol, G))), 2)
			paid = madd(G, shared)
		}
		sum.Settlements += n
		sumG.Add(sumG, G)
		sumPaid.Add(sumPaid, paid)
		l := &pb.InstitutionClearing{InstitutionId: id, Cases: n, Budget: mmoney(G), Claimed: mmoney(C), Retained: mmoney(retained),
			Shared: mmoney(shared), Paid: mmoney(paid)}
		sum.Institutions = append(sum.Institutions, l)
		e.statements[id] = &pb.Statement{Kind: req.GetKind(), Institution: l}
	}
	sum.Budget, sum.PaidTotal = mmoney(sumG), mmoney(sumPaid)
}

func (m *clearingModel) expectCapitation(req *pb.RunClearingRequest, e *cmExpect) {
	con := m.contracts[req.GetContractId()]
	sum := m.summaryHead(req, e, con.region, con.scheme, con.year)
	sum.ContractId = con.id
	n := big.NewRat(int64(len(con.members)), 1)
	K, A := new(big.Rat), new(big.Rat)
	cc := &pb.CapitationClearing{ContractId: con.id, Members: int64(len(con.members))}
	for _, comp := range con.comps {
		kc, ac := mmul(n, comp.rate), new(big.Rat)
		for _, s := range m.sets {
			if con.members[s.person] && s.counted(e.from, e.to) && hasVT(comp.vts, s.vt) {
				ac.Add(ac, s.basic)
				sum.Settlements++
			}
		}
		K.Add(K, kc)
		A.Add(A, ac)
		cc.Components = append(cc.Components, &pb.ComponentClearing{Name: comp.name, Budget: mmoney(kc), Actual: mmoney(ac)})
	}
	cc.Budget, cc.Actual = mmoney(K), mmoney(A)
	covers := new(big.Rat)
	m.seen[fmt.Sprintf("CAPITATION surplus=%v", A.Cmp(K) <= 0)]++
	if A.Cmp(K) <= 0 {
		surplus := msub(K, A)
		cc.Surplus, cc.Deficit, cc.FundCovers, cc.ContractBears = mmoney(surplus), "0.00", "0.00", "0.00"
		keys := make([]string, len(con.shares))
		exact := make([]*big.Rat, len(con.shares))
		for i, s := range con.shares {
			keys[i], exact[i] = s.party, mmul(s.share, surplus)
		}
		for i, a := range mlargestRemainder(surplus, keys, exact) {
			cc.Shares = append(cc.Shares, &pb.PartyAmount{Party: keys[i], Amount: mmoney(a)})
		}
	} else {
		D := msub(A, K)
		covers = mround(mmul(con.share, mmin(D, mmul(con.tol, K))), 2)
		cc.Surplus, cc.Deficit, cc.FundCovers, cc.ContractBears = "0.00", mmoney(D), mmoney(covers), mmoney(msub(D, covers))
	}
	sum.Budget, sum.PaidTotal, sum.Capitation = mmoney(K), mmoney(madd(K, covers)), cc
	e.summary = sum
}

// runAndCheck runs req as clearing and compares everything with the
// model: the summary, then every institution's statement (own token or
// clearing, random page sizes), NOT_FOUND for institutions without a
// line; a failed run must fail with the model's code and store nothing.
func (m *clearingModel) runAndCheck(req *pb.RunClearingRequest, what string) {
	t := m.t
	t.Helper()
	e := m.expect(req)
	got, err := m.c.run(clearingToken, req)
	m.seen[fmt.Sprintf("%s final=%v %s", req.GetKind(), req.GetFinal(), e.code)]++
	if e.code != codes.OK {
		if status.Code(err) != e.code {
			t.Errorf("%s: %v, want %v", what, err, e.code)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	checkProgress(t, got)
	s := got.summary
	if last := got.progress[len(got.progress)-1]; last.GetTotal() != s.GetSettlements() {
		t.Errorf("%s: the last progress reads %d of %d, the summary counts %d settlements", what, last.GetProcessed(), last.GetTotal(), s.GetSettlements())
	}
	e.summary.RunId = s.GetRunId()
	if !proto.Equal(s, e.summary) {
		t.Errorf("%s: summary\n got %s\nwant %s", what, protojson.Format(s), protojson.Format(e.summary))
	}
	run := &cmRun{id: s.GetRunId(), key: e.key, scope: e.scope, kind: req.GetKind(), from: e.from, to: e.to, final: req.GetFinal(),
		summary: e.summary, statements: e.statements, what: what}
	for _, st := range e.statements {
		st.RunId = run.id
	}
	m.checkStatements(run, true)
	if !run.final {
		if old := m.drafts[run.key]; old != nil {
			m.seen["replaced drafts"]++
			old.statements, old.summary = nil, nil // replaced
			m.checkGone(old)
		}
		m.drafts[run.key] = run
	}
	m.runs = append(m.runs, run)
}

// checkStatements reads every institution's statement of a live run.
func (m *clearingModel) checkStatements(run *cmRun, withAccess bool) {
	t := m.t
	t.Helper()
	ids := append(append([]string(nil), m.instIDs...), "NO-SUCH-HOSPITAL")
	for _, id := range ids {
		want := run.statements[id]
		token := clearingToken
		if withAccess && want != nil && m.chance(0.3) {
			token = institutionToken(id)
		}
		got, err := m.fetchStatement(token, run.id, id, int32(m.pick(6)))
		switch {
		case want == nil:
			if status.Code(err) != codes.NotFound {
				t.Errorf("%s: statement of %s (no line): %v, want NOT_FOUND", run.what, id, err)
			}
		case err != nil:
			t.Errorf("%s: statement of %s: %v", run.what, id, err)
		case !proto.Equal(got, want):
			t.Errorf("%s: statement of %s\n got %s\nwant %s", run.what, id, protojson.Format(got), protojson.Format(want))
		}
		if withAccess && want != nil && m.chance(0.2) {
			other := pickOf(m, m.instIDs)
			_, err := m.c.statement(institutionToken(other), &pb.GetStatementRequest{RunId: run.id, InstitutionId: id})
			if wantCode := map[bool]codes.Code{true: codes.OK, false: codes.PermissionDenied}[other == id]; status.Code(err) != wantCode {
				t.Errorf("%s: statement of %s as %s: %v, want %v", run.what, id, other, err, wantCode)
			}
		}
	}
}

// checkGone: a replaced run answers NOT_FOUND for every institution.
func (m *clearingModel) checkGone(run *cmRun) {
	m.t.Helper()
	for _, id := range m.instIDs {
		if _, err := m.c.statement(clearingToken, &pb.GetStatementRequest{RunId: run.id, InstitutionId: id}); status.Code(err) != codes.NotFound {
			m.t.Errorf("%s (replaced): statement of %s: %v, want NOT_FOUND", run.what, id, err)
		}
	}
}

// fetchStatement reads every page of a statement into one.
func (m *clearingModel) fetchStatement(token, runID, inst string, size int32) (*pb.Statement, error) {
	var out *pb.Statement
	tok := ""
	for pages := 0; pages < 10_000; pages++ {
		resp, err := m.c.statement(token, &pb.GetStatementRequest{RunId: runID, InstitutionId: inst, PageSize: size, PageToken: tok})
		if err != nil {
			return nil, err
		}
		st := resp.GetStatement()
		if out == nil {
			out = proto.Clone(st).(*pb.Statement)
		} else {
			if !proto.Equal(st.GetInstitution(), out.GetInstitution()) || st.GetRunId() != out.GetRunId() {
				return nil, fmt.Errorf("page %d of %s/%s changed its header: %v", pages, runID, inst, st)
			}
			out.Cases = append(out.Cases, st.GetCases()...)
		}
		if size > 0 && len(st.GetCases()) > int(size) {
			return nil, fmt.Errorf("a page of %d cases for page_size %d", len(st.GetCases()), size)
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("statement pages never end")
}

// checkStored reads back every run made: live drafts and finals answer
// what they answered when made (later settlements never change them);
// replaced drafts answer NOT_FOUND.
func (m *clearingModel) checkStored() {
	for _, run := range m.runs {
		if run.statements == nil && run.summary == nil {
			m.checkGone(run)
			continue
		}
		m.checkStatements(run, false)
	}
}

// ---- reconciliation ----

// moneyVariant writes the same amount in another way ("10", "10.5").
func (m *clearingModel) moneyVariant(r *big.Rat) string {
	s := mmoney(r)
	if m.chance(0.5) {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		if s == "" {
			s = "0"
		}
	}
	return s
}

func (m *clearingModel) reconcileOne() {
	t := m.t
	t.Helper()
	inst := pickOf(m, m.instIDs)
	from, to := m.randomDay2026(), m.randomDay2026()
	if m.chance(0.2) {
		from = "2025-07-01"
	}
	if from > to {
		from, to = to, from
	}
	scheme := pickOf(m, []pb.Scheme{pb.Scheme_SCHEME_UNSPECIFIED, employee, resident})
	var vts []pb.VisitType
	if m.chance(0.5) {
		for _, vt := range []pb.VisitType{inpatient, chronic, outpatient} {
			if m.chance(0.5) {
				vts = append(vts, vt)
			}
		}
	}
	var listed []*cmSettlement
	total, fund, account := new(big.Rat), new(big.Rat), new(big.Rat)
	for _, s := range m.sets {
		if s.inst != inst || !s.counted(from, to) || (scheme != pb.Scheme_SCHEME_UNSPECIFIED && s.polScheme != scheme) ||
			(len(vts) > 0 && !hasVT(vts, s.vt)) {
			continue
		}
		listed = append(listed, s)
		total.Add(total, s.total)
		fund.Add(fund, s.fund)
		account.Add(account, s.account)
	}
	req := &pb.ReconcileRequest{InstitutionId: inst, PeriodFrom: from, PeriodTo: to, Scheme: scheme, VisitTypes: vts,
		Count: int64(len(listed)), Total: m.moneyVariant(total), FundTotal: m.moneyVariant(fund), Account: m.moneyVariant(account)}
	matched := m.chance(0.6)
	if !matched {
		switch m.pick(4) {
		case 0:
			req.Count++
		case 1:
			req.Total = mmoney(madd(total, big.NewRat(1, 100)))
		case 2:
			req.FundTotal = mmoney(madd(fund, big.NewRat(1, 100)))
		default:
			req.Account = mmoney(madd(account, big.NewRat(1, 100)))
		}
	}
	want := &pb.ReconcileResponse{Matched: matched, Count: int64(len(listed)), Total: mmoney(total), FundTotal: mmoney(fund), Account: mmoney(account)}
	if !matched {
		sort.Slice(listed, func(i, j int) bool {
			if listed[i].date != listed[j].date {
				return listed[i].date < listed[j].date
			}
			return listed[i].id < listed[j].id
		})
		for _, s := range listed {
			want.Settlements = append(want.Settlements, &pb.ReconcileSettlement{SettlementId: s.id, RequestId: s.reqID, SettleDate: s.date,
				Total: mmoney(s.total), FundTotal: mmoney(s.fund), Account: mmoney(s.account)})
		}
	}
	token := pickOf(m, []string{clearingToken, institutionToken(inst)})
	got, err := m.c.reconcile(token, req)
	if err != nil {
		t.Errorf("reconcile %v: %v", req, err)
		return
	}
	if !proto.Equal(got, want) {
		t.Errorf("reconcile %v\n got %s\nwant %s", req, protojson.Format(got), protojson.Format(want))
	}
}
