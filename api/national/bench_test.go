package national

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// benchPersons is how many persons the benchmark's claims go round.
const benchPersons = 64

// benchLines are a claim's six lines: code, cnt, pric, amount.
var benchLines = [][4]string{
	{"A1", "2", "120.5", "241.00"}, {"B1", "1", "88", "88.00"}, {"C1", "3", "15.25", "45.75"},
	{"A1", "1", "1000", "1000.00"}, {"B1", "4", "12.5", "50.00"}, {"A1", "10", "3.3", "33.00"},
}

// benchTotal is the sum of benchLines' amounts.
const benchTotal = "1457.75"

// BenchmarkGatewayClaim is one claim through the gateway's ServeHTTP
// with x-tif signed requests, as the load test sends it: 2301 (six lines)
// then 2304, on an admission opened beforehand (not timed).
func BenchmarkGatewayClaim(b *testing.B) {
	b.Run("memstore", func(b *testing.B) { benchClaims(b, memstore.New()) })
	b.Run("pgstore", func(b *testing.B) {
		url := pgtest.URL(b)
		st, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: pgtest.Schema(b, url),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(st.Close)
		benchClaims(b, st)
	})
}

// benchGateway is a gateway over st with the benchmarks' persons (BP0 …),
// institution H1 and employees' policy, at stNow.
func benchGateway(tb testing.TB, st stStore) *Gateway {
	tb.Helper()
	ctx := context.Background()
	for i := range benchPersons {
		p := engine.Person{ID: "BP" + strconv.Itoa(i), Name: "测试", Region: "R1", Scheme: engine.SchemeEmployee, ContributionYears: 10}
		if err := st.PutPerson(ctx, p); err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.PutInstitution(ctx, engine.Institution{ID: "H1", Name: "H1", Region: "R1", Level: 3}); err != nil {
		tb.Fatal(err)
	}
	if err := st.PutPolicy(ctx, stPolicy(engine.SchemeEmployee).Index()); err != nil {
		tb.Fatal(err)
	}
	clock := &testClock{t: stNow}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, _, local := api.NewServerWithLocal(api.Config{Store: st, Log: log, Now: clock.now})
	g, err := New(servedConfig(SchemeXTif), local, st, st, WithClock(clock.now), WithLogger(log))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func benchClaims(b *testing.B, inner stStore) {
	ctx := context.Background()
	st := &timedSt{stStore: inner}
	g := benchGateway(b, st)
	ts := strconv.FormatInt(stNow.Unix(), 10)
	seq := 0
	post := func(infno, input string) {
		seq++
		nonce := "n-" + strconv.Itoa(seq)
		sum := sha256.Sum256([]byte(ts + secretH1 + nonce + ts))
		body := envelope(infno, "H61030000001202503041306"+strconv.Itoa(seq), "H61030000001", input)
		req := httptest.NewRequest(http.MethodPost, nationalPath, strings.NewReader(body))
		req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "X-Tif-Paasid": {"AK1"},
			"X-Tif-Timestamp": {ts}, "X-Tif-Nonce": {nonce}, "X-Tif-Signature": {hex.EncodeToString(sum[:])}}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"infcode":"0"`) {
			b.Fatalf("%s: HTTP %d %s", infno, w.Code, w.Body.String())
		}
	}
	n := 0
	var in strings.Builder
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		n++
		person := "BP" + strconv.Itoa(n%benchPersons)
		v, err := st.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: person, Kind: store.VisitKindInpatient,
			Number: "IPT" + strconv.Itoa(n), Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2025-03-04 08:00:00"})
		if err != nil {
			b.Fatal(err)
		}
		in.Reset()
		in.WriteString(`{"feedetail":[`)
		for i, l := range benchLines {
			if i > 0 {
				in.WriteByte(',')
			}
			fmt.Fprintf(&in, `{"feedetl_sn":"%d","mdtrt_id":%q,"psn_no":%q,"med_type":"21","fee_ocur_time":"2025-03-04 09:00:00",`+
				`"med_list_codg":%q,"medins_list_codg":"院内%s","det_item_fee_sumamt":%s,"cnt":%s,"pric":%s,"hosp_appr_flag":"1"}`,
				i+1, v.ID, person, l[0], l[0], l[3], l[1], l[2])
		}
		in.WriteString("]}")
		upload := in.String()
		settle := fmt.Sprintf(`{"data":{"psn_no":%q,"mdtrt_cert_type":"02","mdtrt_cert_no":%q,"medfee_sumamt":%s,"psn_setlway":"01",`+
			`"mdtrt_id":%q,"insutype":"310","acct_used_flag":"0","mid_setl_flag":"0","invono":""}}`, person, person, benchTotal, v.ID)
		b.StartTimer()
		post("2301", upload)
		post("2304", settle)
	}
	if testing.Verbose() {
		b.Logf("%d claims\n%s", n, st.report(n))
	}
}
