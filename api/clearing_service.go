package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// Limits of ClearingService.
const (
	// DefaultStatementPage is the number of cases of a statement page when
	// page_size is 0.
	DefaultStatementPage = 10_000
	// MaxStatementPage is the most cases one statement page carries; a
	// larger page_size is reduced to it.
	MaxStatementPage = 50_000
	// MaxReconcileSettlements bounds the settlements one Reconcile answer
	// lists; settlements_truncated says when more were counted.
	MaxReconcileSettlements = 10_000
	// MaxEnrollMembers bounds the messages of one EnrollMembers call,
	// which enrols them in one atomic step at the end of the stream.
	MaxEnrollMembers = 100_000
	// MaxEnrollRejections bounds how many refusals one EnrollMembers
	// response lists; rejected counts them all.
	MaxEnrollRejections = 1000
	// ProgressInterval is the least time between two progress messages of
	// a run, the first and the last excepted (at most ~10 a second).
	ProgressInterval = 100 * time.Millisecond
)

// ClearingService serves clearing runs and their statements,
// reconciliation and capitation contracts (CLEARING.md).
type ClearingService struct {
	pb.UnimplementedClearingServiceServer
	store store.Store
	log   *slog.Logger
}

// RunClearing clears one run (clearing, admin), streaming progress and
// ending with the summary. A client that cancels the stream cancels the
// run, and nothing is stored.
func (s *ClearingService) RunClearing(req *pb.RunClearingRequest, stream pb.ClearingService_RunClearingServer) error {
	ctx := stream.Context()
	m := newMetrics()
	run, err := s.runClearing(ctx, req, stream, m)
	if err != nil {
		err = toStatus(ctx, s.log, "RunClearing", err)
		m.clearingRun(ctx, engine.ClearingKind(req.GetKind()), err)
		return err
	}
	m.clearingRun(ctx, engine.ClearingKind(req.GetKind()), nil)
	return stream.Send(&pb.RunClearingResponse{Event: &pb.RunClearingResponse_Summary{Summary: summaryToProto(run)}})
}

func (s *ClearingService) runClearing(ctx context.Context, req *pb.RunClearingRequest, stream pb.ClearingService_RunClearingServer, m *metrics) (engine.ClearingRun, error) {
	if err := requireClearing(ctx); err != nil {
		return engine.ClearingRun{}, err
	}
	plan, err := s.planRun(ctx, req)
	if err != nil {
		return engine.ClearingRun{}, err
	}
	// A progress message that cannot be sent (the client went away)
	// cancels the run; the store then stores nothing.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ps := &progressSender{
		send: func(m *pb.ClearingProgress) error {
			return stream.Send(&pb.RunClearingResponse{Event: &pb.RunClearingResponse_Progress{Progress: m}})
		},
		cancel: cancel,
	}
	run, err := s.store.RunClearing(runCtx, plan.sel, plan.clearer, m.progress(ctx, plan.sel.Kind, ps.report))
	if err != nil {
		if serr := ps.failed(); serr != nil {
			return engine.ClearingRun{}, fmt.Errorf("send progress: %w", serr)
		}
		return engine.ClearingRun{}, fmt.Errorf("%s run: %w", plan.sel.Kind, err)
	}
	if err := ps.finish(run.Settlements); err != nil {
		return engine.ClearingRun{}, fmt.Errorf("send progress: %w", err)
	}
	return run, nil
}

// runPlan is a checked RunClearing request: what the store selects and
// the clearer that computes the run.
type runPlan struct {
	sel     store.Selection
	clearer engine.Clearer
}

// planRun checks a RunClearing request, listing every bad field at once,
// and builds the selection and the clearer. The policy or contract it
// needs is read here; the settlements are read by the store, from one
// snapshot.
func (s *ClearingService) planRun(ctx context.Context, req *pb.RunClearingRequest) (runPlan, error) {
	var p parser
	kind := engine.ClearingKind(req.GetKind())
	sel := store.Selection{Kind: kind, Final: req.GetFinal()}
	var budget engine.Money
	yearKnown := false
	var contract *engine.CapitationContract
	var contractErr error // the contract's NOT_FOUND, answered when the request is otherwise well formed
	switch kind {
	case engine.ClearingDRG, engine.ClearingBudget:
		engine.CheckID(&p.v, "region", req.GetRegion())
		checkScheme(&p.v, req.GetScheme())
		yearKnown = p.year("year", req.GetYear())
		if kind == engine.ClearingDRG {
			budget = p.positiveMoney("budget", req.GetBudget())
		} else if req.GetBudget() != "" {
			p.v.Addf("budget", "applies to DRG runs only: a BUDGET run reads each institution's budget for the year")
		}
		if req.GetContractId() != "" {
			p.v.Addf("contract_id", "applies to CAPITATION runs only")
		}
		sel.Region, sel.Scheme, sel.Year = req.GetRegion(), engine.Scheme(req.GetScheme()), int(req.GetYear())
	case engine.ClearingCapitation:
		// Region, scheme and year come from the contract; when given they
		// must agree with it.
		before := p.v.Len()
		engine.CheckID(&p.v, "contract_id", req.GetContractId())
		idOK := p.v.Len() == before
		if req.GetRegion() != "" {
			engine.CheckID(&p.v, "region", req.GetRegion())
		}
		if req.GetScheme() != pb.Scheme_SCHEME_UNSPECIFIED {
			checkScheme(&p.v, req.GetScheme())
		}
		if req.GetYear() != 0 {
			p.year("year", req.GetYear())
		}
		if req.GetBudget() != "" {
			p.v.Addf("budget", "applies to DRG runs only: a capitation budget is members × the components' rates")
		}
		if idOK {
			c, err := s.store.GetContract(ctx, req.GetContractId())
			switch {
			case err == nil:
				contract = &c
				if req.GetRegion() != "" && req.GetRegion() != c.Region {
					p.v.Addf("region", "contract %q is of region %q; leave region empty or give the contract's", c.ContractID, c.Region)
				}
				if req.GetScheme() != pb.Scheme_SCHEME_UNSPECIFIED && engine.Scheme(req.GetScheme()) != c.Scheme {
					p.v.Addf("scheme", "contract %q is of %s; leave scheme unspecified or give the contract's", c.ContractID, c.Scheme)
				}
				if req.GetYear() != 0 && int(req.GetYear()) != c.Year {
					p.v.Addf("year", "contract %q is for %d; leave year 0 or give the contract's", c.ContractID, c.Year)
				}
				sel.Region, sel.Scheme, sel.Year = c.Region, c.Scheme, c.Year
				sel.ContractID, sel.VisitTypes = c.ContractID, c.VisitTypes()
				yearKnown = true
			case errors.Is(err, store.ErrNotFound):
				contractErr = fmt.Errorf("capitation contract %q: %w", req.GetContractId(), err)
			default:
				return runPlan{}, fmt.Errorf("read contract %q: %w", req.GetContractId(), err)
			}
		}
	default:
		p.v.Addf("kind", "must be CLEARING_KIND_DRG, CLEARING_KIND_BUDGET or CLEARING_KIND_CAPITATION, got %s", req.GetKind())
	}
	sel.From, sel.To = p.period(kind, sel.Year, yearKnown, req.GetPeriodFrom(), req.GetPeriodTo())
	if err := p.v.Err(); err != nil {
		return runPlan{}, err
	}
	if contractErr != nil {
		return runPlan{}, contractErr
	}

	var err error
	switch kind {
	case engine.ClearingCapitation:
		return runPlan{sel: sel, clearer: engine.NewCapitationClearer(contract)}, nil
	case engine.ClearingDRG:
		policy, perr := s.clearingPolicy(ctx, sel)
		if perr != nil {
			return runPlan{}, perr
		}
		if policy.DRG == nil {
			return runPlan{}, fmt.Errorf("policy %s of region %q, %s, in force on %s, has no drg section: %w",
				policy.Version, sel.Region, sel.Scheme, sel.To, engine.ErrNoClearingRules)
		}
		sel.VisitTypes = []engine.VisitType{engine.VisitInpatient}
		plan := runPlan{sel: sel}
		if plan.clearer, err = engine.NewDRGClearer(policy.DRG, budget); err != nil {
			return runPlan{}, fmt.Errorf("DRG clearer: %w", err)
		}
		return plan, nil
	default: // engine.ClearingBudget
		policy, perr := s.clearingPolicy(ctx, sel)
		if perr != nil {
			return runPlan{}, perr
		}
		if policy.BudgetClearing == nil {
			return runPlan{}, fmt.Errorf("policy %s of region %q, %s, in force on %s, has no budget_clearing section: %w",
				policy.Version, sel.Region, sel.Scheme, sel.To, engine.ErrNoClearingRules)
		}
		sel.VisitTypes = append([]engine.VisitType(nil), policy.BudgetClearing.VisitTypes...)
		return runPlan{sel: sel, clearer: engine.NewBudgetClearer(policy.BudgetClearing, sel.Year)}, nil
	}
}

// clearingPolicy is the policy of (region, scheme) in force on the last
// day of the run's period. A region without any policy is unknown
// (NOT_FOUND); a known region without that policy is FAILED_PRECONDITION.
func (s *ClearingService) clearingPolicy(ctx context.Context, sel store.Selection) (*engine.Policy, error) {
	all, err := s.store.Policies(ctx, sel.Region, engine.SchemeUnspecified)
	if err != nil {
		return nil, fmt.Errorf("policies of region %q: %w", sel.Region, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("unknown region %q (it has no policy of any scheme): %w", sel.Region, store.ErrNotFound)
	}
	return engine.SelectPolicy(all, sel.Region, sel.Scheme, sel.To)
}

// year reads a required calendar year and reports whether it is one.
func (p *parser) year(field string, y int32) bool {
	switch {
	case y == 0:
		p.v.Addf(field, "is required")
	case y < engine.MinYear || y > engine.MaxYear:
		p.v.Addf(field, "must be a calendar year, got %d", y)
	default:
		return true
	}
	return false
}

// period reads a run's period_from and period_to: dates within year,
// from ≤ to, defaulting to the year's first and last day. BUDGET and
// CAPITATION runs cover the whole year. When the year is unknown (missing
// or bad) only the dates' form is checked.
func (p *parser) period(kind engine.ClearingKind, year int, yearKnown bool, fromS, toS string) (engine.Date, engine.Date) {
	before := p.v.Len()
	from := p.optDate("period_from", fromS)
	fromOK := p.v.Len() == before
	before = p.v.Len()
	to := p.optDate("period_to", toS)
	toOK := p.v.Len() == before
	if !yearKnown {
		return from, to
	}
	first := engine.Date{Year: year, Month: time.January, Day: 1}
	last := engine.Date{Year: year, Month: time.December, Day: 31}
	if fromS == "" {
		from = first
	}
	if toS == "" {
		to = last
	}
	if fromOK && from.Year != year {
		p.v.Addf("period_from", "%s is not in %d: a run's period lies within its year", from, year)
		fromOK = false
	}
	if toOK && to.Year != year {
		p.v.Addf("period_to", "%s is not in %d: a run's period lies within its year", to, year)
		toOK = false
	}
	if fromOK && toOK && from.Compare(to) > 0 {
		p.v.Addf("period_to", "%s is before period_from %s", to, from)
		return from, to
	}
	if kind == engine.ClearingBudget || kind == engine.ClearingCapitation {
		if fromOK && from != first {
			p.v.Addf("period_from", "a %s run covers the whole year: leave period_from empty or give %s", kind, first)
		}
		if toOK && to != last {
			p.v.Addf("period_to", "a %s run covers the whole year: leave period_to empty or give %s", kind, last)
		}
	}
	return from, to
}

// progressSender streams a run's progress: the first report, then at most
// one every ProgressInterval, and always one with processed == total
// last. The store may report from any goroutine.
type progressSender struct {
	send   func(*pb.ClearingProgress) error
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	reported bool // the store reported at least once
	total    int64
	sent     bool // a message was sent
	lastSent time.Time
	lastDone bool // the last message sent had processed == total
	err      error
}

// report is the store.Progress of a run.
func (ps *progressSender) report(processed, total int64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.err != nil {
		return
	}
	ps.reported, ps.total = true, total
	now := time.Now()
	if ps.sent && processed != total && now.Sub(ps.lastSent) < ProgressInterval {
		ps.lastDone = false
		return
	}
	ps.sendLocked(processed, total, now)
}

func (ps *progressSender) sendLocked(processed, total int64, now time.Time) {
	if err := ps.send(&pb.ClearingProgress{Processed: processed, Total: total}); err != nil {
		ps.err = err
		ps.cancel(err)
		return
	}
	ps.sent, ps.lastSent, ps.lastDone = true, now, processed == total
}

// finish sends, after a run succeeded, the last progress (every
// settlement read) unless it was the last one sent. settlements is the
// run's count, used when the store never reported.
func (ps *progressSender) finish(settlements int64) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.err == nil && !ps.lastDone {
		total := settlements
		if ps.reported {
			total = ps.total
		}
		ps.sendLocked(total, total, time.Now())
	}
	return ps.err
}

// failed is the error of a progress message that could not be sent.
func (ps *progressSender) failed() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.err
}

// GetStatement reads one institution's line of a run and, for DRG runs,
// a page of its cases (clearing, admin; an institution its own line).
func (s *ClearingService) GetStatement(ctx context.Context, req *pb.GetStatementRequest) (*pb.GetStatementResponse, error) {
	resp, err := s.getStatement(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetStatement", err)
	}
	return resp, nil
}

func (s *ClearingService) getStatement(ctx context.Context, req *pb.GetStatementRequest) (*pb.GetStatementResponse, error) {
	// Access first: an institution learns nothing of another's runs, not
	// even whether they exist. Without an institution id the request is
	// malformed, and validation says so.
	if req.GetInstitutionId() != "" {
		if err := requireClearingOrOwn(ctx, req.GetInstitutionId()); err != nil {
			return nil, err
		}
	}
	var v engine.Violations
	engine.CheckID(&v, "run_id", req.GetRunId())
	engine.CheckID(&v, "institution_id", req.GetInstitutionId())
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		v.Addf("page_size", "must not be negative, got %d", size)
	case size == 0:
		size = DefaultStatementPage
	case size > MaxStatementPage:
		size = MaxStatementPage
	}
	after, ok := decodePageToken(req.GetPageToken(), req.GetRunId(), req.GetInstitutionId())
	if !ok {
		v.Addf("page_token", "is not a next_page_token of this run and institution; leave it empty for the first page")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	run, err := s.store.GetClearingRun(ctx, req.GetRunId())
	if err != nil {
		return nil, fmt.Errorf("clearing run %q: %w", req.GetRunId(), err)
	}
	if run.Kind == engine.ClearingCapitation {
		return nil, fmt.Errorf("run %q is a capitation run, which has no statements (its summary is the statement): %w", run.RunID, store.ErrNotFound)
	}
	var line *engine.ClearingLine
	for i := range run.Institutions {
		if run.Institutions[i].InstitutionID == req.GetInstitutionId() {
			line = &run.Institutions[i]
			break
		}
	}
	if line == nil {
		return nil, fmt.Errorf("institution %q has no line in run %q: %w", req.GetInstitutionId(), run.RunID, store.ErrNotFound)
	}
	resp := &pb.GetStatementResponse{Statement: &pb.Statement{
		RunId: run.RunID, Kind: pb.ClearingKind(run.Kind), Final: run.Final,
		Institution: lineToProto(run.Kind, *line),
	}}
	if run.Kind != engine.ClearingDRG {
		return resp, nil // a BUDGET statement is its line
	}
	// One case more than the page tells whether another page follows.
	cases, err := s.store.StatementCases(ctx, run.RunID, line.InstitutionID, after, size+1)
	if err != nil {
		return nil, fmt.Errorf("cases of run %q, institution %q: %w", run.RunID, line.InstitutionID, err)
	}
	if len(cases) > size {
		cases = cases[:size]
		resp.NextPageToken = encodePageToken(run.RunID, line.InstitutionID, cases[size-1].SettlementID)
	}
	for _, c := range cases {
		resp.Statement.Cases = append(resp.Statement.Cases, caseLineToProto(c))
	}
	return resp, nil
}

// A statement page token is the run id, the institution id and the last
// settlement id listed, base64url-encoded: opaque to clients, and refused
// for another run or institution. Ids never contain control characters,
// so NUL separates them.
func encodePageToken(runID, institutionID, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(runID + "\x00" + institutionID + "\x00" + after))
}

// decodePageToken returns the settlement id to list after ("" for an empty
// token) and whether the token is one of this run and institution.
func decodePageToken(tok, runID, institutionID string) (string, bool) {
	if tok == "" {
		return "", true
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[0] != runID || parts[1] != institutionID || parts[2] == "" {
		return "", false
	}
	return parts[2], true
}

// Reconcile compares an institution's totals for a period with the
// server's (对总账): clearing, admin, or the institution for itself.
func (s *ClearingService) Reconcile(ctx context.Context, req *pb.ReconcileRequest) (*pb.ReconcileResponse, error) {
	resp, err := s.reconcile(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "Reconcile", err)
	}
	return resp, nil
}

func (s *ClearingService) reconcile(ctx context.Context, req *pb.ReconcileRequest) (*pb.ReconcileResponse, error) {
	if req.GetInstitutionId() != "" {
		if err := requireClearingOrOwn(ctx, req.GetInstitutionId()); err != nil {
			return nil, err
		}
	}
	var p parser
	engine.CheckID(&p.v, "institution_id", req.GetInstitutionId())
	before := p.v.Len()
	from := p.date("period_from", req.GetPeriodFrom())
	to := p.date("period_to", req.GetPeriodTo())
	if p.v.Len() == before && from.Compare(to) > 0 {
		p.v.Addf("period_to", "%s is before period_from %s", to, from)
	}
	if req.GetScheme() != pb.Scheme_SCHEME_UNSPECIFIED {
		checkScheme(&p.v, req.GetScheme())
	}
	q := store.ReconcileQuery{
		InstitutionID: req.GetInstitutionId(),
		From:          from,
		To:            to,
		Scheme:        engine.Scheme(req.GetScheme()),
		VisitTypes:    p.visitTypes("visit_types", req.GetVisitTypes()),
		Claimed: store.ReconcileTotals{
			Count:     req.GetCount(),
			Total:     p.requiredMoney("total", req.GetTotal()),
			FundTotal: p.requiredMoney("fund_total", req.GetFundTotal()),
			Account:   p.requiredMoney("account", req.GetAccount()),
		},
		ListLimit: MaxReconcileSettlements,
	}
	if req.GetCount() < 0 {
		p.v.Addf("count", "must not be negative, got %d", req.GetCount())
	}
	if err := p.v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.store.GetInstitution(ctx, q.InstitutionID); err != nil {
		return nil, fmt.Errorf("institution %q: %w", q.InstitutionID, err)
	}
	res, err := s.store.Reconcile(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reconcile institution %q: %w", q.InstitutionID, err)
	}
	return reconcileToProto(res, res.Totals.Equal(q.Claimed)), nil
}

// requiredMoney reads money that must be given ("0.00" for none).
func (p *parser) requiredMoney(field, s string) engine.Money {
	if s == "" {
		p.v.Addf(field, "is required: money with at most two decimals, \"0.00\" for none")
		return engine.Money{}
	}
	return p.money(field, s)
}

// PutCapitationContract creates or replaces a contract's terms (clearing,
// admin); its members stay. Every problem of the terms is listed at once.
func (s *ClearingService) PutCapitationContract(ctx context.Context, req *pb.PutCapitationContractRequest) (*pb.PutCapitationContractResponse, error) {
	c, err := s.putContract(ctx, req.GetContract())
	if err != nil {
		return nil, toStatus(ctx, s.log, "PutCapitationContract", err)
	}
	return &pb.PutCapitationContractResponse{Contract: contractToProto(c)}, nil
}

func (s *ClearingService) putContract(ctx context.Context, in *pb.CapitationContract) (engine.CapitationContract, error) {
	if err := requireClearing(ctx); err != nil {
		return engine.CapitationContract{}, err
	}
	var p parser
	c := p.contract("contract", in)
	if in != nil {
		p.v.MergeNew(engine.ValidateContract(&c))
	}
	if err := p.v.Err(); err != nil {
		return engine.CapitationContract{}, err
	}
	if err := s.store.PutContract(ctx, c); err != nil {
		return engine.CapitationContract{}, fmt.Errorf("contract %q: %w", c.ContractID, err)
	}
	stored, err := s.store.GetContract(ctx, c.ContractID)
	if err != nil {
		return engine.CapitationContract{}, fmt.Errorf("read back contract %q: %w", c.ContractID, err)
	}
	return stored, nil
}

// GetCapitationContract reads a contract with its member count (clearing,
// admin).
func (s *ClearingService) GetCapitationContract(ctx context.Context, req *pb.GetCapitationContractRequest) (*pb.GetCapitationContractResponse, error) {
	c, err := s.getContract(ctx, req.GetContractId())
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetCapitationContract", err)
	}
	return &pb.GetCapitationContractResponse{Contract: contractToProto(c)}, nil
}

func (s *ClearingService) getContract(ctx context.Context, id string) (engine.CapitationContract, error) {
	if err := requireClearing(ctx); err != nil {
		return engine.CapitationContract{}, err
	}
	var v engine.Violations
	engine.CheckID(&v, "contract_id", id)
	if err := v.Err(); err != nil {
		return engine.CapitationContract{}, err
	}
	c, err := s.store.GetContract(ctx, id)
	if err != nil {
		return engine.CapitationContract{}, fmt.Errorf("capitation contract %q: %w", id, err)
	}
	return c, nil
}

// EnrollMembers enrols a stream of persons in one contract (clearing,
// admin) in one atomic step when the stream ends.
//
// One call enrols in ONE contract: the first well-formed message names it,
// and a message naming another contract fails the whole call
// (INVALID_ARGUMENT, nothing enrolled), because enrolments in several
// contracts could not be stored all or nothing. A message with an empty or
// malformed id is a counted rejection, as is a person the store refuses
// (unknown, of another region or scheme, in another contract that year);
// a person sent twice counts twice, as enrolled or rejected alike. An
// unknown contract fails the call (NOT_FOUND), as does a call of more than
// MaxEnrollMembers messages or a broken stream; such a call enrols nothing.
func (s *ClearingService) EnrollMembers(stream pb.ClearingService_EnrollMembersServer) error {
	ctx := stream.Context()
	resp, err := s.enrollMembers(ctx, stream)
	if err != nil {
		return toStatus(ctx, s.log, "EnrollMembers", err)
	}
	return stream.SendAndClose(resp)
}

func (s *ClearingService) enrollMembers(ctx context.Context, stream pb.ClearingService_EnrollMembersServer) (*pb.EnrollMembersResponse, error) {
	if err := requireClearing(ctx); err != nil {
		return nil, err
	}
	var (
		contractID string
		rejections []*pb.EnrollRejection
		persons    []string               // distinct, in stream order
		indices    = map[string][]int64{} // person → the messages naming it
	)
	for index := int64(0); ; index++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("receive message %d: %w", index, err)
		}
		if index == MaxEnrollMembers {
			return nil, invalid("person_id",
				"one EnrollMembers call takes at most %d persons; nothing was enrolled: send the rest in another call", MaxEnrollMembers)
		}
		var v engine.Violations
		engine.CheckID(&v, "contract_id", msg.GetContractId())
		engine.CheckID(&v, "person_id", msg.GetPersonId())
		if err := v.Err(); err != nil {
			rejections = append(rejections, &pb.EnrollRejection{Index: index, ContractId: msg.GetContractId(), PersonId: msg.GetPersonId(), Reason: err.Error()})
			continue
		}
		switch {
		case contractID == "":
			contractID = msg.GetContractId()
		case msg.GetContractId() != contractID:
			return nil, invalid("contract_id",
				"message %d names contract %q after %q: one EnrollMembers call enrols in one contract, all or nothing; nothing was enrolled: send each contract in its own call",
				index, msg.GetContractId(), contractID)
		}
		pid := msg.GetPersonId()
		if _, seen := indices[pid]; !seen {
			persons = append(persons, pid)
		}
		indices[pid] = append(indices[pid], index)
	}
	resp := &pb.EnrollMembersResponse{}
	if contractID != "" {
		enrolled, refused, err := s.store.EnrollMembers(ctx, contractID, persons)
		if err != nil {
			return nil, fmt.Errorf("enrol in contract %q: %w", contractID, err)
		}
		resp.Enrolled = enrolled
		isRefused := make(map[string]bool, len(refused))
		for _, r := range refused {
			if isRefused[r.PersonID] {
				continue
			}
			isRefused[r.PersonID] = true
			for _, i := range indices[r.PersonID] {
				rejections = append(rejections, &pb.EnrollRejection{Index: i, ContractId: contractID, PersonId: r.PersonID, Reason: r.Reason})
			}
		}
		for _, pid := range persons {
			if !isRefused[pid] {
				resp.Enrolled += int64(len(indices[pid]) - 1) // repeats of an enrolled person
			}
		}
	}
	sort.Slice(rejections, func(i, j int) bool { return rejections[i].Index < rejections[j].Index })
	resp.Rejected = int64(len(rejections))
	resp.Rejections = rejections[:min(len(rejections), MaxEnrollRejections)]
	return resp, nil
}
