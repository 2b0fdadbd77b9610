package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// scenario is one file of testdata/vectors (copied from shared/vectors).
type scenario struct {
	Name         string            `json:"name"`
	About        string            `json:"about"`
	Policies     []json.RawMessage `json:"policies"`
	Institutions []json.RawMessage `json:"institutions"`
	Persons      []json.RawMessage `json:"persons"`
	// Filings are cross-region filings, loaded with PutCrossRegionFiling
	// as admin after the persons.
	Filings []json.RawMessage `json:"filings"`
	Steps   []scenarioStep    `json:"steps"`
}

type scenarioStep struct {
	Call    string          `json:"call"`
	Request json.RawMessage `json:"request"`
	Caller  string          `json:"caller"`
	Expect  json.RawMessage `json:"expect"`
}

type settleExpect struct {
	Breakdown map[string]string `json:"breakdown"`
	Details   []detailExpect    `json:"details"`
	Budget    *budgetExpect     `json:"budget"`
	State     string            `json:"state"`
	Error     string            `json:"error"`
}

type detailExpect struct {
	Fund   string `json:"fund"`
	Band   int32  `json:"band"`
	Ratio  string `json:"ratio"`
	Base   string `json:"base"`
	Amount string `json:"amount"`
}

type budgetExpect struct {
	Year  int32  `json:"year"`
	Limit string `json:"limit"`
	Used  string `json:"used"`
	State string `json:"state"`
}

// replayer is what a scenario runs against: the engine with a minimal
// ledger, or a real gRPC server.
type replayer interface {
	putPolicy(*pb.Policy) error
	putInstitution(*pb.Institution) error
	putPerson(*pb.Person) error
	putFiling(*pb.CrossRegionFiling) error
	settle(caller string, req *pb.SettleRequest, commit bool) (*pb.Settlement, error)
	reverse(caller string, req *pb.ReverseSettlementRequest) (*pb.Settlement, error)
	accumulators(req *pb.GetAccumulatorsRequest) (*pb.Accumulators, error)
}

func loadScenarios(t *testing.T) []scenario {
	t.Helper()
	// testdata/vectors is an exact copy of the contract's shared/vectors;
	// testdata/local-vectors holds worked cases of our own, in the same
	// shape, replayed the same way.
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in testdata/vectors (err %v)", err)
	}
	local, err := filepath.Glob("testdata/local-vectors/*.json")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, local...)
	sort.Strings(files)
	var out []scenario
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sc scenario
		if err := json.Unmarshal(raw, &sc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(sc.Steps) == 0 {
			t.Fatalf("%s has no steps", f)
		}
		out = append(out, sc)
	}
	return out
}

func unmarshalInto(t *testing.T, raw []byte, m proto.Message) {
	t.Helper()
	if err := protojson.Unmarshal(raw, m); err != nil {
		t.Fatalf("protojson %s: %v", raw, err)
	}
}

// replayScenario loads a scenario's setup and runs its steps, checking
// every expectation.
func replayScenario(t *testing.T, sc scenario, r replayer) {
	t.Helper()
	for _, raw := range sc.Policies {
		var p pb.Policy
		unmarshalInto(t, raw, &p)
		if err := r.putPolicy(&p); err != nil {
			t.Fatalf("PutPolicy: %v", err)
		}
	}
	for _, raw := range sc.Institutions {
		var in pb.Institution
		unmarshalInto(t, raw, &in)
		if err := r.putInstitution(&in); err != nil {
			t.Fatalf("PutInstitution: %v", err)
		}
	}
	for _, raw := range sc.Persons {
		var p pb.Person
		unmarshalInto(t, raw, &p)
		if err := r.putPerson(&p); err != nil {
			t.Fatalf("PutPerson: %v", err)
		}
	}
	for _, raw := range sc.Filings {
		var f pb.CrossRegionFiling
		unmarshalInto(t, raw, &f)
		if err := r.putFiling(&f); err != nil {
			t.Fatalf("PutCrossRegionFiling: %v", err)
		}
	}
	ids := map[int]string{}
	for i, st := range sc.Steps {
		name := fmt.Sprintf("step %d %s", i, st.Call)
		reqJSON := string(st.Request)
		for n, id := range ids {
			reqJSON = strings.ReplaceAll(reqJSON, fmt.Sprintf(`"@%d"`, n), strconv.Quote(id))
		}
		switch st.Call {
		case "Settle", "PreSettle":
			var req pb.SettleRequest
			unmarshalInto(t, []byte(reqJSON), &req)
			caller := st.Caller
			if caller == "" {
				caller = req.GetInstitutionId()
			}
			got, err := r.settle(caller, &req, st.Call == "Settle")
			if checkSettlement(t, name, st.Expect, got, err) {
				ids[i] = got.GetSettlementId()
			}
		case "ReverseSettlement":
			var req pb.ReverseSettlementRequest
			unmarshalInto(t, []byte(reqJSON), &req)
			got, err := r.reverse(st.Caller, &req)
			if checkSettlement(t, name, st.Expect, got, err) {
				ids[i] = got.GetSettlementId()
			}
		case "GetAccumulators":
			var req pb.GetAccumulatorsRequest
			unmarshalInto(t, []byte(reqJSON), &req)
			got, err := r.accumulators(&req)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			checkSubset(t, name, st.Expect, got)
		default:
			t.Fatalf("%s: unknown call", name)
		}
	}
}

// checkSettlement compares a result with a step's expectation and reports
// whether the call succeeded as expected.
func checkSettlement(t *testing.T, name string, rawExpect json.RawMessage, got *pb.Settlement, err error) bool {
	t.Helper()
	var want settleExpect
	if e := json.Unmarshal(rawExpect, &want); e != nil {
		t.Fatalf("%s: expect: %v", name, e)
	}
	if want.Error != "" {
		if err == nil {
			t.Errorf("%s: want error %s, got success %v", name, want.Error, got)
			return false
		}
		if c := status.Code(err); c.String() != codeName(want.Error) {
			t.Errorf("%s: want %s, got %s (%v)", name, want.Error, c, err)
		}
		return false
	}
	if err != nil {
		t.Errorf("%s: unexpected error %v", name, err)
		return false
	}
	if want.State != "" && got.GetState().String() != want.State {
		t.Errorf("%s: state %s, want %s", name, got.GetState(), want.State)
	}
	if want.Breakdown != nil {
		gotB := map[string]string{}
		raw, _ := protojson.Marshal(got.GetBreakdown())
		_ = json.Unmarshal(raw, &gotB)
		for k, v := range want.Breakdown {
			if gotB[k] != v {
				t.Errorf("%s: breakdown.%s = %q, want %q", name, k, gotB[k], v)
			}
		}
		if len(gotB) != len(want.Breakdown) {
			t.Errorf("%s: breakdown has %d fields, want %d", name, len(gotB), len(want.Breakdown))
		}
		checkDetails(t, name, want.Details, got.GetDetails())
		if want.Budget == nil && got.GetBudget() != nil {
			t.Errorf("%s: unexpected budget %v", name, got.GetBudget())
		}
	}
	if b := want.Budget; b != nil {
		gb := got.GetBudget()
		if gb == nil || gb.GetYear() != b.Year || gb.GetLimit() != b.Limit || gb.GetUsed() != b.Used || gb.GetState().String() != b.State {
			t.Errorf("%s: budget %v, want %+v", name, gb, *b)
		}
	}
	return true
}

func checkDetails(t *testing.T, name string, want []detailExpect, got []*pb.FundDetail) {
	t.Helper()
	var nonZero []*pb.FundDetail
	for _, d := range got {
		if decimal.RequireFromString(d.GetAmount()).IsZero() {
			continue
		}
		nonZero = append(nonZero, d)
	}
	if len(nonZero) != len(want) {
		t.Errorf("%s: %d detail lines %v, want %d %v", name, len(nonZero), nonZero, len(want), want)
		return
	}
	for i, w := range want {
		g := nonZero[i]
		if g.GetFund().String() != w.Fund || g.GetBand() != w.Band || g.GetBase() != w.Base || g.GetAmount() != w.Amount ||
			!decimal.RequireFromString(g.GetRatio()).Equal(decimal.RequireFromString(w.Ratio)) {
			t.Errorf("%s: detail %d = %v, want %+v", name, i, g, w)
		}
	}
}

// checkSubset compares the fields an expectation names with the message.
func checkSubset(t *testing.T, name string, rawExpect json.RawMessage, got proto.Message) {
	t.Helper()
	raw, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var gotMap, wantMap map[string]json.RawMessage
	_ = json.Unmarshal(raw, &gotMap)
	if err := json.Unmarshal(rawExpect, &wantMap); err != nil {
		t.Fatal(err)
	}
	for k, w := range wantMap {
		var wv, gv any
		_ = json.Unmarshal(w, &wv)
		_ = json.Unmarshal(gotMap[k], &gv)
		if fmt.Sprint(normalizeJSON(wv)) != fmt.Sprint(normalizeJSON(gv)) {
			t.Errorf("%s: %s = %s, want %s", name, k, gotMap[k], w)
		}
	}
}

// normalizeJSON makes numbers and numeric strings compare alike (int32
// fields are numbers in protojson, but int64 would be strings).
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalizeJSON(e)
		}
		return out
	}
	return v
}

// codeName turns "FAILED_PRECONDITION" into codes.Code's String form.
func codeName(s string) string {
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if strings.EqualFold(strings.ReplaceAll(s, "_", ""), strings.ReplaceAll(c.String(), "_", "")) {
			return c.String()
		}
	}
	return s
}

var _ = context.Background
