package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// ledger replays vectors against the engine alone: the request mapping of
// this package, engine.Settle, and the smallest state the rules need,
// written here independently of any store.
type ledger struct {
	policies    []*engine.Policy
	persons     map[string]engine.Person
	insts       map[string]engine.Institution
	accums      map[string]engine.Accumulators
	budget      map[string]engine.Money
	settlements map[string]*engine.Settlement
	keys        map[string]string // institution|request id → fingerprint|settlement id
	filings     map[string]engine.Filing
}

func newLedger() *ledger {
	return &ledger{
		persons: map[string]engine.Person{}, insts: map[string]engine.Institution{},
		accums: map[string]engine.Accumulators{}, budget: map[string]engine.Money{},
		settlements: map[string]*engine.Settlement{}, keys: map[string]string{},
		filings: map[string]engine.Filing{},
	}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func asStatus(err error) error { return toStatus(context.Background(), discard, "ledger", err) }

func (l *ledger) putPolicy(in *pb.Policy) error {
	p, err := policyFromProto(in)
	if err == nil {
		err = engine.CheckOverlap(p, l.policies)
	}
	if err != nil {
		return asStatus(err)
	}
	l.policies = append(l.policies, p)
	return nil
}

func (l *ledger) putInstitution(in *pb.Institution) error {
	var p parser
	inst := p.institution("institution", in)
	if err := p.v.Err(); err != nil {
		return asStatus(err)
	}
	l.insts[inst.ID] = inst
	return nil
}

func (l *ledger) putPerson(in *pb.Person) error {
	var p parser
	person := p.person("person", in)
	if err := p.v.Err(); err != nil {
		return asStatus(err)
	}
	l.persons[person.ID] = person
	return nil
}

// putFiling checks a filing as PutCrossRegionFiling does and keeps it,
// replacing one with its id.
func (l *ledger) putFiling(in *pb.CrossRegionFiling) error {
	var p parser
	f := p.filing("filing", in)
	if err := p.v.Err(); err != nil {
		return asStatus(err)
	}
	person, ok := l.persons[f.PersonID]
	if !ok {
		return asStatus(store.ErrNotFound)
	}
	if err := engine.ValidateFiling(f, person); err != nil {
		return asStatus(err)
	}
	l.filings[f.ID] = f
	return nil
}

// filingsOf lists a person's filings by valid_from, then id.
func (l *ledger) filingsOf(personID string) []engine.Filing {
	var out []engine.Filing
	for _, f := range l.filings {
		if f.PersonID == personID {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].ValidFrom.Compare(out[j].ValidFrom); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func yearKey(id string, year int) string { return fmt.Sprintf("%s/%d", id, year) }

func (l *ledger) settle(_ string, req *pb.SettleRequest, commit bool) (*pb.Settlement, error) {
	claim, err := claimFromProto(req)
	if err != nil {
		return nil, asStatus(err)
	}
	key := claim.InstitutionID + "|" + claim.RequestID
	if prev, ok := l.keys[key]; ok && commit {
		fp, id, _ := strings.Cut(prev, "|")
		if !claim.SameRequest(fp) {
			return nil, asStatus(store.ErrConflict)
		}
		return settlementToProto(*l.settlements[id]), nil
	}
	inst, ok := l.insts[claim.InstitutionID]
	if !ok {
		return nil, asStatus(store.ErrNotFound)
	}
	person, ok := l.persons[claim.PersonID]
	if !ok {
		return nil, asStatus(store.ErrNotFound)
	}
	policy, err := engine.SelectPolicy(l.policies, person.Region, person.Scheme, claim.SettleDate)
	if err != nil {
		return nil, asStatus(err)
	}
	ak, bk := yearKey(person.ID, claim.Year()), yearKey(inst.ID, claim.Year())
	acc, ok := l.accums[ak]
	if !ok {
		acc = engine.NewAccumulators(person.ID, claim.Year())
	}
	res, err := engine.Settle(engine.Input{Policy: policy, Person: person, Institution: inst, Claim: claim, Accumulators: acc, BudgetUsed: l.budget[bk],
		Filings: l.filingsOf(person.ID)})
	if err != nil {
		return nil, asStatus(err)
	}
	settled := claim.Decided(res.CrossRegion)
	fp := settled.Fingerprint()
	st := engine.Settlement{ID: fmt.Sprintf("L%d", len(l.settlements)+1), Claim: settled, Fingerprint: fp, State: engine.StatePreview, Result: res}
	if commit {
		ch := engine.SettleChanges(settled, res)
		st.State = ch.State
		l.apply(ch)
		l.settlements[st.ID] = &st
		l.keys[key] = fp + "|" + st.ID
	}
	return settlementToProto(st), nil
}

func (l *ledger) reverse(caller string, req *pb.ReverseSettlementRequest) (*pb.Settlement, error) {
	st, ok := l.settlements[req.GetSettlementId()]
	switch {
	case !ok:
		return nil, asStatus(store.ErrNotFound)
	case caller != "" && caller != st.Claim.InstitutionID:
		return nil, asStatus(engine.ErrForbidden)
	case st.State == engine.StateReversed:
		return nil, asStatus(engine.ErrAlreadyReversed)
	}
	ch := engine.ReverseChanges(*st)
	l.apply(ch)
	st.State = ch.State
	return settlementToProto(*st), nil
}

// apply applies the engine's plan of changes, as the stores do.
func (l *ledger) apply(ch engine.Changes) {
	ak, bk := yearKey(ch.PersonID, ch.Year), yearKey(ch.InstitutionID, ch.Year)
	acc, ok := l.accums[ak]
	if !ok {
		acc = engine.NewAccumulators(ch.PersonID, ch.Year)
	}
	l.accums[ak] = ch.ApplyAccumulators(acc)
	p := l.persons[ch.PersonID]
	p.AccountBalance = ch.ApplyAccount(p.AccountBalance)
	l.persons[ch.PersonID] = p
	l.budget[bk] = ch.ApplyBudget(l.budget[bk])
}

func (l *ledger) accumulators(req *pb.GetAccumulatorsRequest) (*pb.Accumulators, error) {
	p, ok := l.persons[req.GetPersonId()]
	if !ok {
		return nil, asStatus(store.ErrNotFound)
	}
	acc, ok := l.accums[yearKey(p.ID, int(req.GetYear()))]
	if !ok {
		acc = engine.NewAccumulators(p.ID, int(req.GetYear()))
	}
	return accumulatorsToProto(acc, engine.FormatMoney(p.AccountBalance)), nil
}

// TestVectorsEngine replays every vector against the engine alone.
func TestVectorsEngine(t *testing.T) {
	for _, sc := range loadScenarios(t) {
		t.Run(sc.Name, func(t *testing.T) {
			replayScenario(t, sc, newLedger())
		})
	}
}
