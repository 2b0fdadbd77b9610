package national

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// rtTracer counts what the store's connections send PostgreSQL while it
// is on: round trips (a statement by itself, a pipelined batch, a
// statement prepared by itself), transactions (explicit: BEGIN; implicit:
// a statement or a batch sent outside one) and the transactions that
// write (each a commit, a WAL flush), and the statements by their text.
type rtTracer struct {
	mu                         sync.Mutex
	on                         bool
	roundTrips, prepares       int
	explicitTx, implicitTx     int
	writingTx                  int
	statements                 map[string]int
	batchWrites, batchImplicit map[*pgx.Conn]bool
}

func (t *rtTracer) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on = true
	t.roundTrips, t.prepares, t.explicitTx, t.implicitTx, t.writingTx = 0, 0, 0, 0, 0
	t.statements = map[string]int{}
	t.batchWrites, t.batchImplicit = map[*pgx.Conn]bool{}, map[*pgx.Conn]bool{}
}

func (t *rtTracer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on = false
}

// label is a statement's first words.
func label(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 70 {
		s = s[:70]
	}
	return s
}

// writes reports whether sql changes rows (its commit flushes WAL).
func writes(sql string) bool {
	s := strings.ToLower(sql)
	for _, w := range []string{"insert ", "update ", "delete "} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func (t *rtTracer) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on {
		return ctx
	}
	if strings.Contains(d.SQL, "'search_path'") || strings.HasPrefix(d.SQL, "LISTEN ") {
		// A new connection's setting up (AfterConnect), or the policy
		// cache's listener starting on a connection of its own: not the
		// claim's.
		return ctx
	}
	t.roundTrips++
	t.statements[label(d.SQL)]++
	idle := c.PgConn().TxStatus() == 'I'
	switch {
	case strings.EqualFold(d.SQL, "begin"):
		t.explicitTx++
	case strings.EqualFold(d.SQL, "commit"):
		// Counted as writing at its BEGIN's statements.
	case idle:
		t.implicitTx++
		if writes(d.SQL) {
			t.writingTx++
		}
	}
	if !idle && writes(d.SQL) {
		// A write inside an explicit transaction: counted once per
		// transaction below (commit).
		t.batchWrites[c] = true
	}
	if strings.EqualFold(d.SQL, "commit") && t.batchWrites[c] {
		t.writingTx++
		delete(t.batchWrites, c)
	}
	return ctx
}

func (t *rtTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *rtTracer) TraceBatchStart(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on {
		return ctx
	}
	t.roundTrips++
	idle := c.PgConn().TxStatus() == 'I'
	first := ""
	if len(d.Batch.QueuedQueries) > 0 {
		first = d.Batch.QueuedQueries[0].SQL
	}
	if idle && !strings.EqualFold(first, "begin") {
		t.implicitTx++
		t.batchImplicit[c] = true
	}
	for _, q := range d.Batch.QueuedQueries {
		t.statements["[batch] "+label(q.SQL)]++
		switch {
		case strings.EqualFold(q.SQL, "begin"):
			t.explicitTx++
		case strings.EqualFold(q.SQL, "commit"):
			if t.batchWrites[c] {
				t.writingTx++
				delete(t.batchWrites, c)
			}
		case writes(q.SQL):
			t.batchWrites[c] = true
		}
	}
	if t.batchImplicit[c] {
		if t.batchWrites[c] {
			t.writingTx++
		}
		delete(t.batchWrites, c)
		delete(t.batchImplicit, c)
	}
	return ctx
}

func (t *rtTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (t *rtTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (t *rtTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	return ctx
}

func (t *rtTracer) TracePrepareEnd(_ context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.on && !d.AlreadyPrepared {
		t.prepares++
		t.roundTrips++
	}
}

// rtCounts are a tracer's counts per claim.
type rtCounts struct {
	RoundTrips, Prepares, Transactions, ExplicitTx, ImplicitTx, WritingTx float64
	// Sent counts the statements sent (BEGIN and COMMIT included).
	Sent       float64
	Statements string
}

func (t *rtTracer) perClaim(n int) rtCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := func(x int) float64 { return float64(x) / float64(n) }
	var names []string
	sent := 0
	for k, n := range t.statements {
		names = append(names, k)
		sent += n
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "  %5.2f %s\n", f(t.statements[k]), k)
	}
	return rtCounts{RoundTrips: f(t.roundTrips), Prepares: f(t.prepares), Transactions: f(t.explicitTx + t.implicitTx),
		ExplicitTx: f(t.explicitTx), ImplicitTx: f(t.implicitTx), WritingTx: f(t.writingTx), Sent: f(sent), Statements: b.String()}
}

// pgClaims is a gateway on a store (pgstore, traced by tracer when not
// nil; or memstore) with benchPersons employees at H1 and the employees'
// policy, and a poster of signed requests through its ServeHTTP.
type pgClaims struct {
	tb   testing.TB
	st   stStore
	g    *Gateway
	seq  int
	ts   string
	body strings.Builder
}

func newPGClaims(tb testing.TB, tracer pgx.QueryTracer) *pgClaims {
	tb.Helper()
	url := pgtest.URL(tb)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: pgtest.Schema(tb, url), Log: log, Tracer: tracer})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(st.Close)
	return newClaimsOn(tb, st)
}

func newMemClaims(tb testing.TB) *pgClaims { return newClaimsOn(tb, memstore.New()) }

func newClaimsOn(tb testing.TB, st stStore) *pgClaims {
	tb.Helper()
	return &pgClaims{tb: tb, st: st, g: benchGateway(tb, st), ts: strconv.FormatInt(stNow.Unix(), 10)}
}

// post answers infno with input, which must succeed; the answer's output.
func (p *pgClaims) post(infno, input string) string {
	p.seq++
	nonce := "n-" + strconv.Itoa(p.seq)
	sum := sha256.Sum256([]byte(p.ts + secretH1 + nonce + p.ts))
	body := envelope(infno, "H61030000001202503041306"+strconv.Itoa(p.seq), "H61030000001", input)
	req := httptest.NewRequest(http.MethodPost, nationalPath, strings.NewReader(body))
	req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "X-Tif-Paasid": {"AK1"},
		"X-Tif-Timestamp": {p.ts}, "X-Tif-Nonce": {nonce}, "X-Tif-Signature": {hex.EncodeToString(sum[:])}}
	w := httptest.NewRecorder()
	p.g.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"infcode":"0"`) {
		p.tb.Fatalf("%s: HTTP %d %s", infno, w.Code, w.Body.String())
	}
	return w.Body.String()
}

// admit opens claim n's admission through 2401 (as the load test does: the
// gateway then knows the visit) and returns its person and mdtrt_id.
func (p *pgClaims) admit(n int) (person, id string) {
	person = "BP" + strconv.Itoa(n%benchPersons)
	out := p.post("2401", fmt.Sprintf(`{"mdtrtinfo":{"psn_no":%q,"insutype":"310","begntime":"2025-03-04 08:00:00",`+
		`"mdtrt_cert_type":"02","mdtrt_cert_no":%q,"med_type":"21","ipt_no":"IPT%d"},"diseinfo":[]}`, person, person, n))
	var o struct {
		Output struct {
			Result struct {
				MdtrtID string `json:"mdtrt_id"`
			} `json:"result"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.Output.Result.MdtrtID == "" {
		p.tb.Fatalf("2401 answered %s (%v)", out, err)
	}
	return person, o.Output.Result.MdtrtID
}

// inputs are claim n's 2301 and 2304 inputs (benchLines, benchTotal).
func (p *pgClaims) inputs(person, id string) (upload, settle string) {
	in := &p.body
	in.Reset()
	in.WriteString(`{"feedetail":[`)
	for i, l := range benchLines {
		if i > 0 {
			in.WriteByte(',')
		}
		fmt.Fprintf(in, `{"feedetl_sn":"%d","mdtrt_id":%q,"psn_no":%q,"med_type":"21","fee_ocur_time":"2025-03-04 09:00:00",`+
			`"med_list_codg":%q,"medins_list_codg":"院内%s","det_item_fee_sumamt":%s,"cnt":%s,"pric":%s,"hosp_appr_flag":"1"}`,
			i+1, id, person, l[0], l[0], l[3], l[1], l[2])
	}
	in.WriteString("]}")
	upload = in.String()
	settle = fmt.Sprintf(`{"data":{"psn_no":%q,"mdtrt_cert_type":"02","mdtrt_cert_no":%q,"medfee_sumamt":%s,"psn_setlway":"01",`+
		`"mdtrt_id":%q,"insutype":"310","acct_used_flag":"0","mid_setl_flag":"0","invono":""}}`, person, person, benchTotal, id)
	return upload, settle
}

// maxRoundTripsPerClaim and maxTransactionsPerClaim bound what a gateway
// claim (2301 + 2304, one at a time, its admission through 2401) costs on
// PostgreSQL, statements prepared before aside. It was 11 and 8: the
// 2304 read its person apart from its visit and details
// (VisitDetailsPerson reads them together), and the settlement group sent
// its writes in a round trip of their own (they now go with the insert
// and the COMMIT unless a budget's usage must be read back first).
//
//	2301: GetPerson 1, PutFeeDetails' group 2 (BEGIN and reads; writes
//	      and COMMIT), its audit event 1
//	2304: VisitDetailsPerson 1, SettleVisit's group 2, the audit events
//	      of Settle and of the 2304 1 each
//
// maxStatementsPerClaim bounds the statements those round trips send
// (BEGIN and COMMIT included). It was 28: the upload group counted each
// visit's live lines in a statement of its own (visits.live_rows now
// keeps the count, read with the visit's lock) and counted the lines on
// their visits in an UPDATE of its own (now one statement with the
// lines' INSERT).
const (
	maxRoundTripsPerClaim   = 9
	maxTransactionsPerClaim = 7
	maxStatementsPerClaim   = 26
)

// TestGatewayClaimRoundTrips counts the round trips and transactions of a
// gateway claim on PostgreSQL and holds them to their bounds.
func TestGatewayClaimRoundTrips(t *testing.T) {
	tr := &rtTracer{}
	p := newPGClaims(t, tr)
	claim := func(n int, traced bool) {
		person, id := p.admit(n)
		upload, settle := p.inputs(person, id)
		if traced {
			tr.mu.Lock()
			tr.on = true
			tr.mu.Unlock()
			defer tr.stop()
		}
		p.post("2301", upload)
		p.post("2304", settle)
	}
	// Warm: every statement prepared on the connections used.
	const warm, claims = 20, 20
	for n := range warm {
		claim(n, false)
	}
	tr.start()
	tr.stop()
	for n := warm; n < warm+claims; n++ {
		claim(n, true)
	}
	c := tr.perClaim(claims)
	t.Logf("per claim: %.2f round trips (%.2f prepares), %.2f transactions (%.2f explicit, %.2f implicit), %.2f writing, %.2f statements\n%s",
		c.RoundTrips, c.Prepares, c.Transactions, c.ExplicitTx, c.ImplicitTx, c.WritingTx, c.Sent, c.Statements)
	if c.RoundTrips > maxRoundTripsPerClaim {
		t.Errorf("a claim takes %.2f round trips, more than %d", c.RoundTrips, maxRoundTripsPerClaim)
	}
	if c.Transactions > maxTransactionsPerClaim {
		t.Errorf("a claim takes %.2f transactions, more than %d", c.Transactions, maxTransactionsPerClaim)
	}
	if c.Sent > maxStatementsPerClaim {
		t.Errorf("a claim sends %.2f statements, more than %d", c.Sent, maxStatementsPerClaim)
	}
}

// TestSettleInsutypeOnPostgres: a 2304 whose insutype is not its person's
// scheme is refused on PostgreSQL (the person read with the visit) as on
// the memstore (the person read by itself), and settles nothing.
func TestSettleInsutypeOnPostgres(t *testing.T) {
	refusal := func(p *pgClaims, person, id string) string {
		_, settle := p.inputs(person, id)
		settle = strings.Replace(settle, `"insutype":"310"`, `"insutype":"390"`, 1)
		p.seq++
		nonce := "n-" + strconv.Itoa(p.seq)
		sum := sha256.Sum256([]byte(p.ts + secretH1 + nonce + p.ts))
		req := httptest.NewRequest(http.MethodPost, nationalPath, strings.NewReader(envelope("2304", "M"+strconv.Itoa(p.seq), "H61030000001", settle)))
		req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "X-Tif-Paasid": {"AK1"},
			"X-Tif-Timestamp": {p.ts}, "X-Tif-Nonce": {nonce}, "X-Tif-Signature": {hex.EncodeToString(sum[:])}}
		w := httptest.NewRecorder()
		p.g.ServeHTTP(w, req)
		var r struct {
			Infcode string `json:"infcode"`
			ErrMsg  string `json:"err_msg"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.Infcode == "0" {
			t.Fatalf("2304 with another insutype answered %s (%v)", w.Body.String(), err)
		}
		return r.ErrMsg
	}
	pg := newPGClaims(t, nil)
	person, id := pg.admit(1)
	upload, _ := pg.inputs(person, id)
	pg.post("2301", upload)
	onPG := refusal(pg, person, id)
	if v, err := pg.st.GetVisit(context.Background(), id); err != nil || v.State != store.VisitOpen {
		t.Fatalf("the visit after the refusal: %+v, %v", v, err)
	}

	mem := newMemClaims(t)
	person, id = mem.admit(1)
	upload, _ = mem.inputs(person, id)
	mem.post("2301", upload)
	onMem := refusal(mem, person, id)
	if onPG != onMem || !strings.Contains(onPG, "insutype 390") {
		t.Errorf("refused on PostgreSQL with %q, on the memstore with %q", onPG, onMem)
	}
}

// BenchmarkGatewayClaimPG is BenchmarkGatewayClaim/pgstore on the store
// itself (no timing wrapper, so that the gateway sees what the store can
// do) with each admission opened through 2401, as the load test does.
func BenchmarkGatewayClaimPG(b *testing.B) {
	p := newPGClaims(b, nil)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		n++
		person, id := p.admit(n)
		upload, settle := p.inputs(person, id)
		b.StartTimer()
		p.post("2301", upload)
		p.post("2304", settle)
	}
}
