package national

import (
	"context"
	"errors"
	"fmt"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// ownVisit reads the visit mdtrtID of the calling institution and checks
// that psnNo is its person.
func ownVisit(ctx context.Context, g *Gateway, c *Call, mdtrtID, psnNo text) (store.Visit, error) {
	if err := requireID("psn_no", psnNo); err != nil {
		return store.Visit{}, err
	}
	v, err := institutionVisit(ctx, g, c, mdtrtID)
	if err != nil {
		return store.Visit{}, err
	}
	return v, personOf(v, psnNo)
}

// ownVisitDetails is ownVisit that reads, in the same call, the visit's
// live details of batch ("" = all; store.VisitStore.VisitDetails): the
// visit is read no later than its details.
func ownVisitDetails(ctx context.Context, g *Gateway, c *Call, mdtrtID, psnNo text, batch string) (store.Visit, []store.FeeDetail, error) {
	if err := requireVisitIDs(mdtrtID, psnNo); err != nil {
		return store.Visit{}, nil, err
	}
	v, details, err := g.visits.VisitDetails(ctx, string(mdtrtID), batch)
	if v, err = ownVisitRead(g, c, mdtrtID, psnNo, v, err); err != nil {
		return store.Visit{}, nil, err
	}
	return v, details, nil
}

// visitPersonReader is a store that reads a visit, its live details of a
// batch and a person in one round trip (pgstore.Store.VisitDetailsPerson):
// what VisitDetails and then GetPerson read, the person's error apart.
type visitPersonReader interface {
	VisitDetailsPerson(ctx context.Context, id, batch, personID string) (store.Visit, []store.FeeDetail, engine.Person, error, error)
}

// personRead is a person read with a visit (ownVisitDetailsPerson), or
// nothing when read is false: personFor then reads it.
type personRead struct {
	p    engine.Person
	err  error
	read bool
}

// ownVisitDetailsPerson is ownVisitDetails that also reads the person
// psnNo in the same round trip when the gateway's visit store and store
// are one store that can (visitPersonReader); the person is checked
// later, by personRead.personFor, as personFor checks it.
func ownVisitDetailsPerson(ctx context.Context, g *Gateway, c *Call, mdtrtID, psnNo text, batch string) (store.Visit, []store.FeeDetail, personRead, error) {
	r, ok := g.visits.(visitPersonReader)
	if !ok || any(g.store) != any(r) {
		v, details, err := ownVisitDetails(ctx, g, c, mdtrtID, psnNo, batch)
		return v, details, personRead{}, err
	}
	if err := requireVisitIDs(mdtrtID, psnNo); err != nil {
		return store.Visit{}, nil, personRead{}, err
	}
	v, details, p, perr, err := r.VisitDetailsPerson(ctx, string(mdtrtID), batch, string(psnNo))
	if v, err = ownVisitRead(g, c, mdtrtID, psnNo, v, err); err != nil {
		return store.Visit{}, nil, personRead{}, err
	}
	return v, details, personRead{p: p, err: perr, read: true}, nil
}

// requireVisitIDs refuses a missing psn_no or mdtrt_id, in that order.
func requireVisitIDs(mdtrtID, psnNo text) error {
	if err := requireID("psn_no", psnNo); err != nil {
		return err
	}
	return requireID("mdtrt_id", mdtrtID)
}

// ownVisitRead is the visit mdtrtID as the store read it (v, err), kept
// in the visit cache, if it is the calling institution's and psnNo is its
// person.
func ownVisitRead(g *Gateway, c *Call, mdtrtID, psnNo text, v store.Visit, err error) (store.Visit, error) {
	if err == nil {
		g.visitAttrs.keep(v)
	}
	if v, err = ofInstitution(c, mdtrtID, v, err); err != nil {
		return store.Visit{}, err
	}
	if err := personOf(v, psnNo); err != nil {
		return store.Visit{}, err
	}
	return v, nil
}

// personFor is personFor (psnNo, insutype) on the person as read, if it
// was.
func (pr personRead) personFor(ctx context.Context, g *Gateway, psnNo, insutype text) (engine.Person, error) {
	if !pr.read {
		return personFor(ctx, g, psnNo, insutype)
	}
	if err := requireID("psn_no", psnNo); err != nil {
		return engine.Person{}, err
	}
	return checkedPerson(psnNo, insutype, pr.p, pr.err)
}

// personOf refuses a psnNo that is not v's person.
func personOf(v store.Visit, psnNo text) error {
	if v.PersonID != string(psnNo) {
		return refuse("psn_no %s 不是就诊 %s 的人员，请传入办理该就诊时的 psn_no", clip(string(psnNo), 40), v.ID)
	}
	return nil
}

// institutionVisit reads the visit mdtrtID of the calling institution. A
// visit of another institution is answered as one that does not exist, as
// the gRPC API answers another institution's settlement: an institution
// learns nothing of the others' visits.
func institutionVisit(ctx context.Context, g *Gateway, c *Call, mdtrtID text) (store.Visit, error) {
	if err := requireID("mdtrt_id", mdtrtID); err != nil {
		return store.Visit{}, err
	}
	v, err := g.visits.GetVisit(ctx, string(mdtrtID))
	if err == nil {
		g.visitAttrs.keep(v)
	}
	return ofInstitution(c, mdtrtID, v, err)
}

// ofInstitution is the visit v the store read for mdtrtID (with err), if
// it is the calling institution's; else an unknown visit (another
// institution's, or none).
func ofInstitution(c *Call, mdtrtID text, v store.Visit, err error) (store.Visit, error) {
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.InstitutionID != c.Cred.InstitutionID) {
		return store.Visit{}, unknownVisit(string(mdtrtID))
	}
	if err != nil {
		return store.Visit{}, fmt.Errorf("reading visit %q: %w", mdtrtID, err)
	}
	return v, nil
}

// unknownVisit refuses a mdtrt_id that is not one of the institution's
// visits.
func unknownVisit(id string) *Refusal {
	return refuse("mdtrt_id %s 不存在或不是本机构的就诊，请核对 mdtrt_id", clip(id, 40))
}

// notOpen refuses an operation that needs an OPEN visit, saying why v is
// not and what to do; what names the operation ("上传费用明细").
func notOpen(v store.Visit, what string) *Refusal {
	switch v.State {
	case store.VisitSettled:
		return refuse("就诊 %s 已结算（setl_id %s），不能%s；请先冲正结算（2208/2305）后再办理", v.ID, v.SettlementID, what)
	case store.VisitCancelled:
		return refuse("就诊 %s 已撤销，不能%s；请重新办理挂号或入院", v.ID, what)
	}
	return refuse("就诊 %s 不在可办理状态，不能%s", v.ID, what)
}

// whenNotOpen turns the store's ErrVisitNotOpen (the visit changed state
// after it was read) into notOpen with the visit as it is now; other
// errors are returned wrapped, ErrNotFound as an unknown visit.
func whenNotOpen(ctx context.Context, g *Gateway, id, what string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return unknownVisit(id)
	case errors.Is(err, store.ErrVisitNotOpen):
		v, rerr := g.visits.GetVisit(ctx, id)
		if rerr != nil {
			return fmt.Errorf("re-reading visit %q: %w", id, rerr)
		}
		return notOpen(v, what)
	}
	return fmt.Errorf("visit %q: %w", id, err)
}

// kindName names a visit kind and the transaction that opens it, for
// messages.
func kindName(k store.VisitKind) string {
	if k == store.VisitKindInpatient {
		return "住院（2401）"
	}
	return "门诊（2201）"
}

// requireKind refuses a transaction for the other kind of visit: infno
// serves visits of kind k.
func requireKind(v store.Visit, k store.VisitKind, infno string) error {
	if v.Kind != k {
		return refuse("就诊 %s 是%s就诊，交易 %s 只办理%s就诊", v.ID, kindName(v.Kind), infno, kindName(k))
	}
	return nil
}

// personFor reads the person psnNo and checks that insutype is the
// person's scheme (GATEWAY.md "Transactions").
func personFor(ctx context.Context, g *Gateway, psnNo, insutype text) (engine.Person, error) {
	if err := requireID("psn_no", psnNo); err != nil {
		return engine.Person{}, err
	}
	p, err := g.store.GetPerson(ctx, string(psnNo))
	return checkedPerson(psnNo, insutype, p, err)
}

// checkedPerson is the person psnNo as GetPerson read it (p, err), if it
// exists and insutype is its scheme.
func checkedPerson(psnNo, insutype text, p engine.Person, err error) (engine.Person, error) {
	if errors.Is(err, store.ErrNotFound) {
		return engine.Person{}, refuse("psn_no %s 不存在，请先用 1101 查询人员并传入其 psn_no", clip(string(psnNo), 40))
	}
	if err != nil {
		return engine.Person{}, fmt.Errorf("reading person %q: %w", psnNo, err)
	}
	if err := checkInsutype(insutype, p); err != nil {
		return engine.Person{}, err
	}
	return p, nil
}

// checkInsutype refuses an insutype that is not the person's scheme.
func checkInsutype(insutype text, p engine.Person) error {
	s, ok := schemeOfInsutype(string(insutype))
	if !ok {
		return refuse("insutype「%s」不支持，请传入 310（职工基本医疗保险）或 390（城乡居民基本医疗保险）", clip(string(insutype), 20))
	}
	if engine.Scheme(s) != p.Scheme {
		return refuse("insutype %s 不是人员 %s 的险种（其 insutype 为 %s），请按 1101 返回的 insutype 传入",
			insutype, clip(p.ID, 40), insutypeOf(pb.Scheme(p.Scheme)))
	}
	return nil
}
