package api

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// frozenStore is a store that, while frozen, answers nothing: every
// operation waits until its context ends, as a store on a frozen database
// whose driver honours contexts.
type frozenStore struct {
	store.Store
	frozen atomic.Bool
	// runFrozen freezes RunClearing alone.
	runFrozen atomic.Bool
	// delay, when set, is how long a thawed RunClearing takes.
	delay time.Duration
}

func (f *frozenStore) wait(ctx context.Context) error {
	if f.frozen.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (f *frozenStore) PutPerson(ctx context.Context, p engine.Person) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.PutPerson(ctx, p)
}

func (f *frozenStore) PutPersons(ctx context.Context, ps []engine.Person) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.PutPersons(ctx, ps)
}

func (f *frozenStore) GetPerson(ctx context.Context, id string) (engine.Person, error) {
	if err := f.wait(ctx); err != nil {
		return engine.Person{}, err
	}
	return f.Store.GetPerson(ctx, id)
}

func (f *frozenStore) EachPerson(ctx context.Context, region string, scheme engine.Scheme, fn func(engine.Person) error) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.EachPerson(ctx, region, scheme, fn)
}

func (f *frozenStore) PutInstitution(ctx context.Context, in engine.Institution) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.PutInstitution(ctx, in)
}

func (f *frozenStore) GetInstitution(ctx context.Context, id string) (engine.Institution, error) {
	if err := f.wait(ctx); err != nil {
		return engine.Institution{}, err
	}
	return f.Store.GetInstitution(ctx, id)
}

func (f *frozenStore) PutFiling(ctx context.Context, fl engine.Filing) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.PutFiling(ctx, fl)
}

func (f *frozenStore) AdjustAccount(ctx context.Context, a store.Adjustment) (store.Adjustment, error) {
	if err := f.wait(ctx); err != nil {
		return store.Adjustment{}, err
	}
	return f.Store.AdjustAccount(ctx, a)
}

func (f *frozenStore) Filings(ctx context.Context, personID string) ([]engine.Filing, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.Store.Filings(ctx, personID)
}

func (f *frozenStore) PutPolicy(ctx context.Context, p *engine.Policy) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.PutPolicy(ctx, p)
}

func (f *frozenStore) Policies(ctx context.Context, region string, scheme engine.Scheme) ([]*engine.Policy, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.Store.Policies(ctx, region, scheme)
}

func (f *frozenStore) Snapshot(ctx context.Context, personID, institutionID string, year int) (store.PersonYear, error) {
	if err := f.wait(ctx); err != nil {
		return store.PersonYear{}, err
	}
	return f.Store.Snapshot(ctx, personID, institutionID, year)
}

func (f *frozenStore) Settle(ctx context.Context, claim engine.Claim, compute store.ComputeFunc) (engine.Settlement, error) {
	if err := f.wait(ctx); err != nil {
		return engine.Settlement{}, err
	}
	return f.Store.Settle(ctx, claim, compute)
}

func (f *frozenStore) Reverse(ctx context.Context, r store.Reversal) (engine.Settlement, error) {
	if err := f.wait(ctx); err != nil {
		return engine.Settlement{}, err
	}
	return f.Store.Reverse(ctx, r)
}

func (f *frozenStore) GetSettlement(ctx context.Context, id string) (engine.Settlement, error) {
	if err := f.wait(ctx); err != nil {
		return engine.Settlement{}, err
	}
	return f.Store.GetSettlement(ctx, id)
}

func (f *frozenStore) RunClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	if err := f.wait(ctx); err != nil {
		return engine.ClearingRun{}, err
	}
	if f.runFrozen.Load() {
		<-ctx.Done()
		return engine.ClearingRun{}, ctx.Err()
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return engine.ClearingRun{}, ctx.Err()
		}
	}
	return f.Store.RunClearing(ctx, sel, c, progress)
}

func (f *frozenStore) GetClearingRun(ctx context.Context, runID string) (engine.ClearingRun, error) {
	if err := f.wait(ctx); err != nil {
		return engine.ClearingRun{}, err
	}
	return f.Store.GetClearingRun(ctx, runID)
}

func (f *frozenStore) StatementCases(ctx context.Context, runID, institutionID, after string, limit int) ([]engine.CaseLine, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.Store.StatementCases(ctx, runID, institutionID, after, limit)
}

func (f *frozenStore) PutContract(ctx context.Context, c engine.CapitationContract) error {
	if err := f.wait(ctx); err != nil {
		return err
	}
	return f.Store.PutContract(ctx, c)
}

func (f *frozenStore) GetContract(ctx context.Context, id string) (engine.CapitationContract, error) {
	if err := f.wait(ctx); err != nil {
		return engine.CapitationContract{}, err
	}
	return f.Store.GetContract(ctx, id)
}

func (f *frozenStore) EnrollMembers(ctx context.Context, contractID string, personIDs []string) (int64, []store.EnrollRejection, error) {
	if err := f.wait(ctx); err != nil {
		return 0, nil, err
	}
	return f.Store.EnrollMembers(ctx, contractID, personIDs)
}

func (f *frozenStore) Reconcile(ctx context.Context, q store.ReconcileQuery) (store.ReconcileResult, error) {
	if err := f.wait(ctx); err != nil {
		return store.ReconcileResult{}, err
	}
	return f.Store.Reconcile(ctx, q)
}

// storeOps calls every operation of store.Store once, and says which
// limit bounds it.
var storeOps = map[string]struct {
	long bool
	call func(ctx context.Context, st store.Store) error
}{
	"PutPerson":  {false, func(ctx context.Context, st store.Store) error { return st.PutPerson(ctx, engine.Person{ID: "X"}) }},
	"PutPersons": {true, func(ctx context.Context, st store.Store) error { return st.PutPersons(ctx, nil) }},
	"GetPerson": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.GetPerson(ctx, "X")
		return err
	}},
	"PutInstitution": {false, func(ctx context.Context, st store.Store) error {
		return st.PutInstitution(ctx, engine.Institution{ID: "X"})
	}},
	"GetInstitution": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.GetInstitution(ctx, "X")
		return err
	}},
	"PutFiling": {false, func(ctx context.Context, st store.Store) error {
		return st.PutFiling(ctx, engine.Filing{PersonID: "X"})
	}},
	"AdjustAccount": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.AdjustAccount(ctx, store.Adjustment{RequestID: "X", PersonID: "X"})
		return err
	}},
	"Filings": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.Filings(ctx, "X")
		return err
	}},
	"PutPolicy": {false, func(ctx context.Context, st store.Store) error { return st.PutPolicy(ctx, &engine.Policy{}) }},
	"Policies": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.Policies(ctx, "", engine.SchemeUnspecified)
		return err
	}},
	"Snapshot": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.Snapshot(ctx, "X", "Y", 2026)
		return err
	}},
	"Settle": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.Settle(ctx, engine.Claim{}, nil)
		return err
	}},
	"Reverse": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.Reverse(ctx, store.Reversal{})
		return err
	}},
	"GetSettlement": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.GetSettlement(ctx, "X")
		return err
	}},
	"RunClearing": {true, func(ctx context.Context, st store.Store) error {
		_, err := st.RunClearing(ctx, store.Selection{}, nil, nil)
		return err
	}},
	"GetClearingRun": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.GetClearingRun(ctx, "X")
		return err
	}},
	"StatementCases": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.StatementCases(ctx, "X", "Y", "", 1)
		return err
	}},
	"PutContract": {false, func(ctx context.Context, st store.Store) error {
		return st.PutContract(ctx, engine.CapitationContract{})
	}},
	"GetContract": {false, func(ctx context.Context, st store.Store) error {
		_, err := st.GetContract(ctx, "X")
		return err
	}},
	"EnrollMembers": {true, func(ctx context.Context, st store.Store) error {
		_, _, err := st.EnrollMembers(ctx, "X", nil)
		return err
	}},
	"Reconcile": {true, func(ctx context.Context, st store.Store) error {
		_, err := st.Reconcile(ctx, store.ReconcileQuery{})
		return err
	}},
	"EachPerson": {true, func(ctx context.Context, st store.Store) error {
		return st.EachPerson(ctx, "X", engine.SchemeResident, func(engine.Person) error { return nil })
	}},
}

// TestStoreTimeoutCoversEveryOperation calls every operation of
// store.Store (enumerated by reflection: one this test does not know fails
// it) on a frozen store through WithStoreTimeouts: each fails with
// store.ErrUnavailable once its limit, unary or long, has passed, and not
// before.
func TestStoreTimeoutCoversEveryOperation(t *testing.T) {
	iface := reflect.TypeFor[store.Store]()
	var names []string
	for i := range iface.NumMethod() {
		names = append(names, iface.Method(i).Name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := storeOps[name]; !ok {
			t.Errorf("store.Store has %s, which TestStoreTimeoutCoversEveryOperation does not know: bound it in timedStore "+
				"(store_timeout.go) and add it to storeOps and frozenStore", name)
		}
	}
	if len(storeOps) != len(names) {
		t.Errorf("storeOps has %d operations, store.Store %d", len(storeOps), len(names))
	}
	const unary, long = 50 * time.Millisecond, 300 * time.Millisecond
	frozen := &frozenStore{Store: memstore.New()}
	frozen.frozen.Store(true)
	st := WithStoreTimeouts(frozen, StoreTimeouts{Unary: unary, Long: long})
	var wg sync.WaitGroup
	for _, name := range names {
		op, ok := storeOps[name]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit := unary
			if op.long {
				limit = long
			}
			start := time.Now()
			err := op.call(context.Background(), st)
			took := time.Since(start)
			var te *storeTimeoutError
			if !errors.Is(err, store.ErrUnavailable) || !errors.As(err, &te) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s on a frozen store: %v, want a store timeout", name, err)
			}
			if took < limit || took > limit+2*time.Second {
				t.Errorf("%s gave up after %v, its limit is %v", name, took, limit)
			}
		}()
	}
	wg.Wait()
}

// frozenServer serves a frozen store with the demo fixture, with the
// given limits.
func frozenServer(t *testing.T, limits StoreTimeouts) (*testServer, *frozenStore) {
	t.Helper()
	frozen := &frozenStore{Store: memstore.New()}
	ts := startServerOn(t, WithStoreTimeouts(frozen, limits), map[string]string{
		adminToken: "admin", clearingToken: "clearing", institutionToken("QZ-H3"): "institution:QZ-H3",
	})
	demoFixture(t, ts)
	return ts, frozen
}

// demoFixture loads demoServer's policy, institutions and persons.
func demoFixture(t *testing.T, ts *testServer) {
	t.Helper()
	r := grpcReplayer{ts}
	var pol pb.Policy
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	must(t, err)
	unmarshalInto(t, raw, &pol)
	must(t, r.putPolicy(&pol))
	must(t, r.putInstitution(&pb.Institution{InstitutionId: "QZ-H3", Name: "H3", Region: "350500", Level: 3}))
	must(t, r.putPerson(&pb.Person{PersonId: "E1", Name: "E1", Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
		Employment: pb.Employment_EMPLOYMENT_EMPLOYED, ContributionYears: 8, AccountBalance: "500.00"}))
}

// noDeadline is a context with a bearer token and no deadline.
func noDeadline(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// TestFrozenStoreAnswersUnavailable calls a server whose store stops
// answering, without a client deadline: the calls end after the server's
// limit with UNAVAILABLE ("retry with the same request id"), and a retry
// once the store answers again settles exactly once. A client deadline
// shorter than the limit is the client's: DEADLINE_EXCEEDED.
func TestFrozenStoreAnswersUnavailable(t *testing.T) {
	const limit = 300 * time.Millisecond
	ts, frozen := frozenServer(t, StoreTimeouts{Unary: limit})
	h3 := noDeadline(institutionToken("QZ-H3"))
	frozen.frozen.Store(true)

	for name, call := range map[string]func() error{
		"Settle": func() error {
			_, err := ts.settlement.Settle(h3, claim("fz-1", "QZ-H3", "E1", "1000"))
			return err
		},
		"GetSettlement": func() error {
			_, err := ts.settlement.GetSettlement(h3, &pb.GetSettlementRequest{SettlementId: "S1"})
			return err
		},
		"GetAccumulators": func() error {
			_, err := ts.settlement.GetAccumulators(h3, &pb.GetAccumulatorsRequest{PersonId: "E1", Year: 2026})
			return err
		},
		"GetPerson": func() error {
			_, err := ts.registry.GetPerson(h3, &pb.GetPersonRequest{PersonId: "E1"})
			return err
		},
	} {
		start := time.Now()
		err := call()
		took := time.Since(start)
		if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "retry with the same request id") {
			t.Errorf("%s on a frozen store: %v, want UNAVAILABLE", name, err)
		}
		if took < limit || took > limit+3*time.Second {
			t.Errorf("%s answered after %v; the limit is %v", name, took, limit)
		}
	}

	// The client's own deadline, shorter than the server's limit.
	ctx, cancel := context.WithTimeout(h3, limit/3)
	_, err := ts.settlement.Settle(ctx, claim("fz-1", "QZ-H3", "E1", "1000"))
	cancel()
	wantCode(t, err, codes.DeadlineExceeded)
	// The same seen by the handler: the caller's deadline is
	// DEADLINE_EXCEEDED, the server's limit UNAVAILABLE.
	svc := &SettlementService{store: WithStoreTimeouts(frozen, StoreTimeouts{Unary: limit}), log: discard, tel: newTelemetry()}
	admin := context.WithValue(context.Background(), principalKey{}, Principal{Role: RoleAdmin})
	short, cancel := context.WithTimeout(admin, limit/3)
	_, err = svc.GetSettlement(short, &pb.GetSettlementRequest{SettlementId: "S1"})
	cancel()
	wantCode(t, err, codes.DeadlineExceeded)
	_, err = svc.GetSettlement(admin, &pb.GetSettlementRequest{SettlementId: "S1"})
	wantCode(t, err, codes.Unavailable)

	// The store answers again: the retry settles, once.
	frozen.frozen.Store(false)
	resp, err := ts.settlement.Settle(h3, claim("fz-1", "QZ-H3", "E1", "1000"))
	must(t, err)
	again, err := ts.settlement.Settle(h3, claim("fz-1", "QZ-H3", "E1", "1000"))
	must(t, err)
	if again.GetSettlement().GetSettlementId() != resp.GetSettlement().GetSettlementId() {
		t.Errorf("the retry settled again: %s, then %s", resp.GetSettlement().GetSettlementId(), again.GetSettlement().GetSettlementId())
	}
}

// TestNewServerBoundsTheStore serves a frozen store given as it is:
// NewServer bounds it with DefaultStoreTimeout, and a call without a
// client deadline ends with UNAVAILABLE instead of waiting for ever.
func TestNewServerBoundsTheStore(t *testing.T) {
	frozen := &frozenStore{Store: memstore.New()}
	ts := startServerOn(t, frozen, map[string]string{adminToken: "admin"})
	frozen.frozen.Store(true)
	start := time.Now()
	// A deadline only so that the test ends if the server waits for ever.
	ctx, cancel := context.WithTimeout(noDeadline(adminToken), 3*DefaultStoreTimeout)
	defer cancel()
	_, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "E1"})
	wantCode(t, err, codes.Unavailable)
	if took := time.Since(start); took < DefaultStoreTimeout || took > 2*DefaultStoreTimeout {
		t.Errorf("answered after %v; the default limit is %v", took, DefaultStoreTimeout)
	}
}

// TestLongStoreOperationsHaveTheirOwnLimit runs a clearing that takes
// longer than the unary limit: it completes under the long limit, and a
// frozen store ends it with UNAVAILABLE after the long limit.
func TestLongStoreOperationsHaveTheirOwnLimit(t *testing.T) {
	frozen := &frozenStore{Store: memstore.New(), delay: 300 * time.Millisecond}
	c := clearingServerOn(t, WithStoreTimeouts(frozen, StoreTimeouts{Unary: 100 * time.Millisecond, Long: 2 * time.Second}))
	drgExample(c)
	clr := pb.NewClearingServiceClient(c.conn)
	if _, err := readRun(noDeadline(clearingToken), clr, drgRun("100000")); err != nil {
		t.Fatalf("a clearing run of 300 ms under a 2 s limit: %v", err)
	}
	frozen.runFrozen.Store(true)
	start := time.Now()
	_, err := readRun(noDeadline(clearingToken), clr, drgRun("100000"))
	wantCode(t, err, codes.Unavailable)
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("a frozen clearing run gave up after %v, before its limit", took)
	}
}

// freezingProxy forwards TCP connections to a backend until frozen; while
// frozen it forwards nothing and keeps every connection open, as a
// database that stopped answering.
type freezingProxy struct {
	ln      net.Listener
	backend string
	frozen  atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func startFreezingProxy(t *testing.T, backend string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln, backend: backend}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *freezingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		go p.pipe(c, b)
		go p.pipe(b, c)
	}
}

// pipe copies from src to dst, holding every chunk while frozen.
func (p *freezingProxy) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for n > 0 && p.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// A side that hangs up hangs up the other: the backend
			// then ends the session of a connection pgx gave up.
			_ = dst.Close()
			return
		}
	}
}

func (p *freezingProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// TestFrozenPostgresAnswersUnavailable serves pgstore through a proxy that
// freezes: calls without a client deadline end with UNAVAILABLE after the
// server's limit (pgx gives up on the connection when the operation's
// context ends), and the server answers again once the database does.
func TestFrozenPostgresAnswersUnavailable(t *testing.T) {
	base := pgtest.URL(t)
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		t.Skipf("the test database URL %q is not a postgres:// URL with a host", base)
	}
	proxy := startFreezingProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pg, err := pgstore.Open(ctx, u.String(), pgstore.Options{Schema: pgtest.Schema(t, base), Log: discard, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	const limit = 500 * time.Millisecond
	ts := startServerOn(t, WithStoreTimeouts(pg, StoreTimeouts{Unary: limit}), map[string]string{
		adminToken: "admin", institutionToken("QZ-H3"): "institution:QZ-H3",
	})
	demoFixture(t, ts)
	h3 := noDeadline(institutionToken("QZ-H3"))
	resp, err := ts.settlement.Settle(h3, claim("pgfz-1", "QZ-H3", "E1", "1000"))
	must(t, err)
	id := resp.GetSettlement().GetSettlementId()

	proxy.frozen.Store(true)
	start := time.Now()
	_, err = ts.settlement.GetSettlement(h3, &pb.GetSettlementRequest{SettlementId: id})
	took := time.Since(start)
	wantCode(t, err, codes.Unavailable)
	if took < limit || took > limit+5*time.Second {
		t.Errorf("GetSettlement on a frozen database answered after %v; the limit is %v", took, limit)
	}
	_, err = ts.settlement.Settle(h3, claim("pgfz-2", "QZ-H3", "E1", "1000"))
	wantCode(t, err, codes.Unavailable)

	proxy.frozen.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = ts.settlement.GetSettlement(h3, &pb.GetSettlementRequest{SettlementId: id})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	must(t, err)
	// The retry of the settlement that timed out settles at most once.
	first, err := ts.settlement.Settle(h3, claim("pgfz-2", "QZ-H3", "E1", "1000"))
	must(t, err)
	again, err := ts.settlement.Settle(h3, claim("pgfz-2", "QZ-H3", "E1", "1000"))
	must(t, err)
	if first.GetSettlement().GetSettlementId() != again.GetSettlement().GetSettlementId() {
		t.Errorf("a retry settled again")
	}
}

// TestSettlementServiceHasNoLongStoreOperation pins the settlement
// service's methods: storeDeadline bounds all the store operations of each
// of its calls by the unary limit, which suits none of the long ones (a
// clearing run, a reconciliation, a bulk import). A method added to the
// service fails here until it is checked to do only short store work.
func TestSettlementServiceHasNoLongStoreOperation(t *testing.T) {
	var got []string
	for _, m := range pb.SettlementService_ServiceDesc.Methods {
		got = append(got, m.MethodName)
	}
	want := []string{"PreSettle", "Settle", "ReverseSettlement", "GetSettlement", "GetAccumulators"}
	if strings.Join(got, " ") != strings.Join(want, " ") || len(pb.SettlementService_ServiceDesc.Streams) != 0 {
		t.Errorf("settlement service methods %v and %d streams, want %v and none: check that the new ones do only unary store operations (storeDeadline)",
			got, len(pb.SettlementService_ServiceDesc.Streams), want)
	}
	if !strings.HasPrefix(pb.SettlementService_Settle_FullMethodName, settlementServicePrefix) {
		t.Errorf("settlementServicePrefix %q does not start %q", settlementServicePrefix, pb.SettlementService_Settle_FullMethodName)
	}
}
