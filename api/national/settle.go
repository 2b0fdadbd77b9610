package national

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// settleTx is one of the settling transactions: the kind of visit it
// serves and whether it commits.
type settleTx struct {
	infno  string
	kind   store.VisitKind
	commit bool
}

func init() {
	for _, tx := range []settleTx{
		{"2206", store.VisitKindOutpatient, false}, {"2207", store.VisitKindOutpatient, true},
		{"2303", store.VisitKindInpatient, false}, {"2304", store.VisitKindInpatient, true},
	} {
		register(tx.infno, func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
			return settleVisit(ctx, g, c, input, tx)
		})
	}
}

// settleAnswer is the output of the settling transactions.
type settleAnswer struct {
	Setlinfo   setlInfo     `json:"setlinfo"`
	Setldetail []setlDetail `json:"setldetail"`
	// rows is room for Setldetail (answer): at most the three funds.
	rows [3]setlDetail
}

// settleRequest is a settling transaction's request as checked: what the
// claim is, and what the answer echoes.
type settleRequest struct {
	data      *settleData
	sum       engine.Money
	expect    []expected
	account   bool
	batch     string
	visitType engine.VisitType
	medType   string
}

// settleVisit pre-settles or settles a visit's live details (GATEWAY.md
// "Settling a visit") through Services.PreSettle/Settle: the request is
// checked first, then the visit (the caller's, of tx's kind, not
// cancelled) and the person (insutype their scheme). A visit whose
// settlement is live answers that settlement unchanged (2207/2304) or is
// refused (2206/2303).
func settleVisit(ctx context.Context, g *Gateway, c *Call, input json.RawMessage, tx settleTx) (any, error) {
	r, err := readSettleRequest(input, tx)
	if err != nil {
		return nil, err
	}
	d := r.data
	// The person is read with the visit where the store can (one round
	// trip), and checked here, as when it is read here.
	v, details, pr, err := ownVisitDetailsPerson(ctx, g, c, d.MdtrtID, d.PsnNo, r.batch)
	if err != nil {
		return nil, err
	}
	if err := requireKind(v, tx.kind, tx.infno); err != nil {
		return nil, err
	}
	person, err := pr.personFor(ctx, g, d.PsnNo, d.Insutype)
	if err != nil {
		return nil, err
	}
	c.AuditPerson(person.ID)
	if tx.kind == store.VisitKindInpatient {
		vt, ok := visitTypeOfMedType(v.MedType)
		if !ok || vt != pb.VisitType_VISIT_TYPE_INPATIENT {
			return nil, refuse("入院登记的 med_type「%s」不支持结算，请撤销入院（2404）后按 21 等住院类别重新登记", clip(v.MedType, 10))
		}
		r.visitType, r.medType = engine.VisitType(vt), v.MedType
	}
	wasOpen := v.State == store.VisitOpen
	v, live, err := liveSettlement(ctx, g, v)
	if err != nil {
		return nil, err
	}
	if live != nil {
		if !tx.commit {
			return nil, notOpen(v, "预结算")
		}
		return answerSettled(ctx, g, c, r, v, person, *live)
	}
	var items []*pb.LineItem
	var total engine.Money
	if wasOpen {
		items, total, err = claimItems(v, r.batch, details)
	} else {
		// Reopened just now (its settlement was reversed): its details
		// are read again, after the reopened visit, as its mark needs.
		items, total, err = claimLines(ctx, g, v, r.batch)
	}
	if err != nil {
		return nil, err
	}
	if !total.Equal(r.sum) {
		return nil, refuse("medfee_sumamt %s 与就诊 %s 未撤销费用明细合计 %s 不符，请核对明细（可重新上传或撤销）后按合计传入", r.sum, v.ID, total)
	}
	drg, today := "", c.Today()
	if tx.kind == store.VisitKindInpatient {
		if drg, err = knownDRG(ctx, g, person, today, drgCodeOf(d)); err != nil {
			return nil, err
		}
	}
	req := &pb.SettleRequest{RequestId: settleRequestID(v), InstitutionId: c.Cred.InstitutionID, PersonId: person.ID,
		VisitType: pb.VisitType(r.visitType), SettleDate: today, DrgCode: drg, UsePersonalAccount: r.account, Items: items}
	if !tx.commit {
		return preSettle(ctx, g, c, r, v, person, req)
	}
	return commitSettlement(ctx, g, c, r, v, person, req)
}

// readSettleRequest checks what the request says by itself, before any
// state is read.
func readSettleRequest(input json.RawMessage, tx settleTx) (settleRequest, error) {
	// Read in one pass where it can be (in then stays on the stack), else
	// by decodeInput, which refuses it or reads it with encoding/json.
	var in settleInput
	if len(input) == 0 || !in.decodeFast(input) {
		var slow settleInput
		if err := decodeInput(input, &slow); err != nil {
			return settleRequest{}, err
		}
		in = slow
	}
	d := in.Data
	if d == nil {
		return settleRequest{}, refuse("input.data 缺失，请按接口规范传入 data")
	}
	r := settleRequest{data: d}
	if d.PsnSetlway != "01" {
		return r, refuse("psn_setlway「%s」不支持：只办理 01（按项目结算），请传入 01", clip(string(d.PsnSetlway), 10))
	}
	if tx.kind == store.VisitKindInpatient && d.MidSetlFlag == "1" {
		return r, refuse("mid_setl_flag 1（中途结算）不支持，请出院后一次结算，传入 0")
	}
	if tx.kind == store.VisitKindOutpatient {
		vt, ok := visitTypeOfMedType(string(d.MedType))
		if !ok || vt == pb.VisitType_VISIT_TYPE_INPATIENT {
			return r, refuse("med_type「%s」不支持门诊结算，请传入 11、12、13（普通门诊）或 14（门诊慢特病）", clip(string(d.MedType), 10))
		}
		r.visitType, r.medType = engine.VisitType(vt), string(d.MedType)
		if err := requireID("chrg_bchno", d.ChrgBchno); err != nil {
			return r, err
		}
		r.batch = string(d.ChrgBchno)
	}
	switch d.AcctUsedFlag {
	case "", "0":
	case "1":
		r.account = true
	default:
		return r, refuse("acct_used_flag「%s」不对，请传入 1（使用个人账户）或 0（不使用）", clip(string(d.AcctUsedFlag), 10))
	}
	if !d.MedfeeSumamt.Present {
		return r, refuse("medfee_sumamt 缺失，请传入费用明细合计")
	}
	sum, err := parseAmount("medfee_sumamt", d.MedfeeSumamt)
	if err != nil {
		return r, err
	}
	r.sum = sum
	if tx.commit {
		if r.expect, err = expectedFigures(d); err != nil {
			return r, err
		}
	}
	return r, nil
}

// liveSettlement is the visit's live settlement (nil when the visit is
// OPEN): a visit SETTLED by a settlement since reversed (the reopening
// was lost) is reopened first; a cancelled visit is refused.
func liveSettlement(ctx context.Context, g *Gateway, v store.Visit) (store.Visit, *engine.Settlement, error) {
	switch v.State {
	case store.VisitOpen:
		return v, nil, nil
	case store.VisitSettled:
	default:
		return v, nil, notOpen(v, "结算")
	}
	st, err := g.store.GetSettlement(ctx, v.SettlementID)
	if err != nil {
		return v, nil, fmt.Errorf("reading settlement %q of visit %q: %w", v.SettlementID, v.ID, err)
	}
	if st.State != engine.StateReversed {
		return v, &st, nil
	}
	reopened, err := g.visits.ReopenVisit(ctx, v.ID, st.ID)
	if err != nil {
		return v, nil, whenNotOpen(ctx, g, v.ID, "结算", err)
	}
	return reopened, nil, nil
}

// preSettle computes the settlement and records nothing: the answer is
// the engine's result as PreSettle computed it (captured through the
// settle check, which refuses nothing).
func preSettle(ctx context.Context, g *Gateway, c *Call, r settleRequest, v store.Visit, p engine.Person, req *pb.SettleRequest) (any, error) {
	var mu sync.Mutex
	var res *engine.Result
	capture := func(got engine.Result) error {
		mu.Lock()
		defer mu.Unlock()
		res = &got
		return nil
	}
	if _, err := g.svc.PreSettle(api.WithSettleCheck(ctx, capture), req); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if res == nil {
		return nil, errors.New("pre-settlement: the services computed no result the gateway could see")
	}
	return answer(settled{Result: *res, Visit: v, Person: p, VisitType: r.visitType, MedType: r.medType,
		CertType: string(r.data.MdtrtCertType), At: c.Now, Msgid: c.Env.Msgid}), nil
}

// commitSettlement settles the claim under the visit's request id, with
// the HIS's pre-settled figures checked, and the visit marked settled,
// inside the transaction that commits it (api.WithVisitMark: v is the
// visit as read before its details were, so a visit reopened, cancelled or
// whose details changed since is refused with nothing committed). A
// request id already recorded (a retry after a crash, or a visit settled
// before SettleVisit existed) is answered without touching the visit:
// the visit is then marked as before (MarkVisitSettled, the heal path).
func commitSettlement(ctx context.Context, g *Gateway, c *Call, r settleRequest, v store.Visit, p engine.Person, req *pb.SettleRequest) (any, error) {
	sc := &settleCapture{expect: r.expect}
	// At is the settle time (setl_time, GATEWAY.md: the commit time): the
	// gateway's clock as it hands the claim to the store, which commits it
	// with the visit's mark in one transaction, not the time the request
	// arrived (before its visit, person and details were read).
	mark := store.VisitMark{VisitID: v.ID, Generation: v.Generation, DetailsVersion: v.DetailsVersion,
		Msgid: c.Env.Msgid, CertType: string(r.data.MdtrtCertType), At: g.now()}
	resp, err := g.svc.Settle(api.WithVisitMark(api.WithSettled(api.WithSettleCheck(ctx, sc.check), sc.got), mark), req)
	var recorded engine.Settlement
	sc.mu.Lock()
	stale, committed, has := sc.diff, sc.computed && err == nil, sc.recorded
	if has {
		recorded = sc.settlement
	}
	sc.mu.Unlock()
	var st *engine.Settlement
	if has {
		st = &recorded
	}
	var id string
	switch {
	case err == nil:
		id = resp.GetSettlement().GetSettlementId()
	case stale != "":
		// The last computation was refused by the check: nothing was
		// committed (whatever status the store's error became).
		return nil, refuse("预结算结果已变化，未结算：%s；请重新预结算后再结算", clip(stale, 120))
	case api.IsVisitNotOpen(err):
		// The visit moved on since it was read: nothing was committed.
		return nil, visitMoved(ctx, g, v)
	case status.Code(err) == codes.AlreadyExists:
		// The visit's request id settled another claim (a retry after a
		// crash whose details or date changed since): that settlement
		// stands and is the answer.
		ev, ok, aerr := firstSuccess(ctx, g, c.Cred.InstitutionID, pb.SettlementService_Settle_FullMethodName, req.GetRequestId())
		if aerr != nil || !ok || len(ev.ResultIDs) == 0 {
			return nil, errors.Join(err, aerr)
		}
		id = ev.ResultIDs[0]
	default:
		return nil, err
	}
	if committed {
		// This call committed it and, in the same transaction, settled
		// the visit as mark says: its msgid is the settling one, kept on
		// the visit with its settle time (mark.At). The visit is
		// answered as the commit left it, not read again: a replay reads
		// the same time, msgid and type from the visit.
		if st == nil || st.ID != id {
			read, err := g.store.GetSettlement(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("reading settlement %q: %w", id, err)
			}
			st = &read
		}
		marked, err := v.SettledByMark(mark, st.ID, mark.At)
		if err != nil {
			return nil, fmt.Errorf("visit %q as settled by %q: %w", v.ID, st.ID, err)
		}
		c.AuditResult(st.ID)
		return answerFor(ctx, g, c, r, marked, p, *st, c.Env.Msgid)
	}
	// The heal path: the request id was recorded before (its visit maybe
	// not marked).
	marked, err := g.visits.MarkVisitSettled(ctx, v.ID, id)
	if err != nil {
		return nil, undoOrphan(ctx, g, v.ID, id, err)
	}
	if st == nil || st.ID != id {
		// Services that do not tell what Settle recorded (or the
		// settlement of another call, AlreadyExists): read it.
		read, err := g.store.GetSettlement(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("reading settlement %q: %w", id, err)
		}
		st = &read
	}
	if !committed && st.State == engine.StateReversed {
		// The visit's request id answered a settlement reversed since
		// (over gRPC, its mark lost): it is not the visit's settlement.
		// Reopen the visit and settle anew under its next request id.
		v, err := g.visits.ReopenVisit(ctx, marked.ID, st.ID)
		if err != nil {
			return nil, whenNotOpen(ctx, g, marked.ID, "结算", err)
		}
		req.RequestId = settleRequestID(v)
		return commitSettlement(ctx, g, c, r, v, p, req)
	}
	return answerSettled(ctx, g, c, r, marked, p, *st)
}

// settleCapture is what commitSettlement learns from the settlement
// service's callbacks (from any goroutine): the settle check's last
// verdict on the HIS's figures (expect), and the settlement recorded.
type settleCapture struct {
	expect []expected

	mu         sync.Mutex
	diff       string
	computed   bool
	recorded   bool
	settlement engine.Settlement
}

// check is the settle check: the computed result must have the expected
// figures.
func (sc *settleCapture) check(res engine.Result) error {
	d := differences(sc.expect, res.Breakdown)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.diff, sc.computed = d, true
	if d != "" {
		return fmt.Errorf("%w: %s", api.ErrSettleCheck, d)
	}
	return nil
}

// got keeps the settlement recorded.
func (sc *settleCapture) got(st engine.Settlement) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.settlement, sc.recorded = st, true
}

// visitMoved answers a settlement refused for its visit mark: the visit
// is read again and the refusal says what changed since it was read
// (v): its state (notOpen), a reopening, or its fee details.
func visitMoved(ctx context.Context, g *Gateway, v store.Visit) error {
	cur, err := g.visits.GetVisit(ctx, v.ID)
	if err != nil {
		return whenNotOpen(ctx, g, v.ID, "结算", err)
	}
	switch {
	case cur.State != store.VisitOpen:
		return notOpen(cur, "结算")
	case cur.Generation != v.Generation:
		return refuse("就诊 %s 在结算过程中已冲正重开，未结算：请重新预结算后再结算", v.ID)
	}
	return refuse("就诊 %s 的费用明细在读取后已变化（上传或撤销），未结算：请重新预结算后再结算", v.ID)
}

// undoOrphan handles a settlement, recorded before this call (the heal
// path), for a visit that could not be marked settled by it: the visit
// was cancelled meanwhile (2202/2404 between that call's settlement and
// its mark), so the settlement is reversed and the request refused. Any
// other error is returned: the retry heals it.
func undoOrphan(ctx context.Context, g *Gateway, visitID, settlementID string, err error) error {
	if !errors.Is(err, store.ErrVisitNotOpen) {
		return fmt.Errorf("marking visit %q settled by %q: %w", visitID, settlementID, err)
	}
	cur, gerr := g.visits.GetVisit(ctx, visitID)
	if gerr != nil || cur.State != store.VisitCancelled {
		return fmt.Errorf("marking visit %q settled by %q: %w", visitID, settlementID, errors.Join(err, gerr))
	}
	if _, rerr := g.svc.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: reverseRequestID(settlementID),
		SettlementId: settlementID, Reason: "就诊已撤销"}); rerr != nil {
		return fmt.Errorf("reversing settlement %q of cancelled visit %q: %w", settlementID, visitID, rerr)
	}
	return notOpen(cur, "结算")
}

// answerSettled is the answer of a committed settlement: the same on
// every reading (setl_time is when it was committed).
// A replay: medins_setl_id is the msgid of the call that committed it,
// as the visit keeps it (settledBySettleVisit), else from the audit log.
func answerSettled(ctx context.Context, g *Gateway, c *Call, r settleRequest, v store.Visit, p engine.Person, st engine.Settlement) (any, error) {
	c.AuditResult(st.ID)
	if settledBySettleVisit(v, st) {
		return answerFor(ctx, g, c, r, v, p, st, v.SettleMsgid)
	}
	msgid, err := settlingMsgid(ctx, g, c, c.Env.Infno, p.ID, st.ID, c.Env.Msgid)
	if err != nil {
		return nil, err
	}
	return answerFor(ctx, g, c, r, v, p, st, msgid)
}

// answerFor is the answer of a committed settlement that msgid committed:
// setl_time, medins_setl_id and mdtrt_cert_type as the visit keeps them
// when SettleVisit settled it by st, else the commit time from the audit
// log and msgid and the request's mdtrt_cert_type (a visit settled
// before SettleVisit existed, or healed by MarkVisitSettled).
func answerFor(ctx context.Context, g *Gateway, c *Call, r settleRequest, v store.Visit, p engine.Person, st engine.Settlement, msgid string) (any, error) {
	at, certType := v.SettledAt, string(r.data.MdtrtCertType)
	if settledBySettleVisit(v, st) {
		msgid = v.SettleMsgid
		if v.SettleCertType != "" {
			certType = v.SettleCertType
		}
	} else {
		var err error
		if at, err = committedAt(ctx, g, st.Claim.InstitutionID, pb.SettlementService_Settle_FullMethodName, st.Claim.RequestID, st); err != nil {
			return nil, err
		}
	}
	return answer(settled{ID: st.ID, Result: st.Result, Visit: v, Person: p, VisitType: st.Claim.VisitType,
		MedType: r.medType, CertType: certType, At: at, Msgid: msgid}), nil
}

// settledBySettleVisit reports whether v is SETTLED by st through
// SettleVisit, which kept the commit time and the settling msgid.
func settledBySettleVisit(v store.Visit, st engine.Settlement) bool {
	return v.State == store.VisitSettled && v.SettlementID == st.ID && !v.SettledAt.IsZero() && v.SettleMsgid != ""
}

// answer is the output of a settlement, from a pool (finish gives it
// back once written): its setldetail rows are in it.
func answer(s settled) *settleAnswer {
	a := settleAnswers.Get().(*settleAnswer)
	a.Setlinfo = newSetlInfo(s)
	a.Setldetail = appendSetlDetails(a.rows[:0], s.Result, s.Person.Scheme)
	return a
}

// settleAnswers are settlements' answers, reused once written (finish).
var settleAnswers = sync.Pool{New: func() any { return new(settleAnswer) }}

// release gives a written answer back to the pool, cleared.
func (a *settleAnswer) release() {
	*a = settleAnswer{}
	settleAnswers.Put(a)
}
