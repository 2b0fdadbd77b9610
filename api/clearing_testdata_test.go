package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// The worked clearing examples of testdata/clearing (README.md there):
// one scenario per payment method, every expected figure worked by hand
// with its arithmetic beside it, replayed through a real gRPC server with
// the tokens of admin, clearing and every institution, on every store.

// clearingFile is one scenario of testdata/clearing.
type clearingFile struct {
	name         string
	About        string             `json:"about"`
	Policies     []json.RawMessage  `json:"policies"`
	Institutions []json.RawMessage  `json:"institutions"`
	Persons      []json.RawMessage  `json:"persons"`
	Contracts    []json.RawMessage  `json:"contracts"`
	Members      []json.RawMessage  `json:"members"`
	Steps        []clearingFileStep `json:"steps"`
}

type clearingFileStep struct {
	Call       string          `json:"call"`
	Request    json.RawMessage `json:"request"`
	Caller     string          `json:"caller"`
	Expect     json.RawMessage `json:"expect"`
	Arithmetic []string        `json:"arithmetic"`
}

// clearingFileCalls are the calls a step may make; the ones that check
// figures must say how each was worked out.
var clearingFileCalls = map[string]bool{
	"Settle": true, "ReverseSettlement": false, "RunClearing": true, "GetStatement": true,
	"Reconcile": true, "PutCapitationContract": false, "EnrollMembers": false,
}

// TestClearingTestdata replays every file of testdata/clearing on every
// store.
func TestClearingTestdata(t *testing.T) {
	files := loadClearingFiles(t)
	for _, kind := range storeKinds {
		for _, f := range files {
			t.Run(string(kind)+"/"+f.name, func(t *testing.T) { replayClearingFile(t, kind, f) })
		}
	}
}

// loadClearingFiles reads the scenarios strictly (an unknown field is an
// error) and checks their shape: one file per method, every step a known
// call with an expectation, arithmetic beside every figure.
func loadClearingFiles(t *testing.T) []clearingFile {
	t.Helper()
	paths, err := filepath.Glob("testdata/clearing/*.json")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	var out []clearingFile
	seen := map[string]bool{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var f clearingFile
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		f.name = strings.TrimSuffix(filepath.Base(p), ".json")
		seen[f.name] = true
		if f.About == "" || len(f.Steps) == 0 {
			t.Fatalf("%s: no about or no steps", p)
		}
		for i, st := range f.Steps {
			figures, known := clearingFileCalls[st.Call]
			if !known {
				t.Fatalf("%s step %d: unknown call %q", p, i, st.Call)
			}
			exp, err := expectOf(st.Expect)
			if err != nil {
				t.Fatalf("%s step %d: %v", p, i, err)
			}
			if _, isErr := exp["error"]; figures && !isErr && len(st.Arithmetic) == 0 {
				t.Errorf("%s step %d (%s): expected figures without their arithmetic", p, i, st.Call)
			}
		}
		out = append(out, f)
	}
	for _, want := range []string{"drg-points", "budget", "capitation", "reconcile"} {
		if !seen[want] {
			t.Errorf("testdata/clearing/%s.json is missing", want)
		}
	}
	return out
}

// expectOf splits an expectation; {"error": CODE} stands alone.
func expectOf(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, fmt.Errorf("expect must be a non-empty object (%v)", err)
	}
	if _, ok := m["error"]; ok && len(m) != 1 {
		return nil, fmt.Errorf("an error expectation names nothing else")
	}
	return m, nil
}

// clearingReplay runs one file against one server.
type clearingReplay struct {
	t        *testing.T
	ts       *testServer
	clearing pb.ClearingServiceClient
	ids      map[int]string // step → settlement or run id it returned
}

func replayClearingFile(t *testing.T, kind storeKind, f clearingFile) {
	roles := map[string]string{adminToken: "admin", clearingToken: "clearing"}
	for _, raw := range f.Institutions {
		var in pb.Institution
		unmarshalInto(t, raw, &in)
		roles[institutionToken(in.GetInstitutionId())] = "institution:" + in.GetInstitutionId()
	}
	ts := startServerOn(t, newStore(t, kind), roles)
	r := &clearingReplay{t: t, ts: ts, clearing: pb.NewClearingServiceClient(ts.conn), ids: map[int]string{}}
	r.setup(f)
	for i, st := range f.Steps {
		r.step(i, st)
	}
}

func (r *clearingReplay) setup(f clearingFile) {
	t := r.t
	g := grpcReplayer{r.ts}
	for _, raw := range f.Policies {
		var p pb.Policy
		unmarshalInto(t, raw, &p)
		must(t, g.putPolicy(&p))
	}
	for _, raw := range f.Institutions {
		var in pb.Institution
		unmarshalInto(t, raw, &in)
		must(t, g.putInstitution(&in))
	}
	for _, raw := range f.Persons {
		var p pb.Person
		unmarshalInto(t, raw, &p)
		must(t, g.putPerson(&p))
	}
	for _, raw := range f.Contracts {
		var k pb.CapitationContract
		unmarshalInto(t, raw, &k)
		ctx, cancel := as(clearingToken)
		_, err := r.clearing.PutCapitationContract(ctx, &pb.PutCapitationContractRequest{Contract: &k})
		cancel()
		must(t, err)
	}
	// Members: one EnrollMembers call per contract, every one enrolled.
	var order []string
	byContract := map[string][]*pb.EnrollMembersRequest{}
	for _, raw := range f.Members {
		m := &pb.EnrollMembersRequest{}
		unmarshalInto(t, raw, m)
		if _, ok := byContract[m.GetContractId()]; !ok {
			order = append(order, m.GetContractId())
		}
		byContract[m.GetContractId()] = append(byContract[m.GetContractId()], m)
	}
	for _, k := range order {
		resp, err := r.enroll(clearingToken, byContract[k])
		must(t, err)
		if resp.GetRejected() != 0 || resp.GetEnrolled() != int64(len(byContract[k])) {
			t.Fatalf("members of %s: %v", k, resp)
		}
	}
}

var unresolvedRef = regexp.MustCompile(`"@[0-9]+"`)

// resolve replaces "@N" with the id step N returned.
func (r *clearingReplay) resolve(name string, raw json.RawMessage) []byte {
	s := string(raw)
	for n, id := range r.ids {
		s = strings.ReplaceAll(s, fmt.Sprintf(`"@%d"`, n), strconv.Quote(id))
	}
	if ref := unresolvedRef.FindString(s); ref != "" {
		r.t.Fatalf("%s: %s names no id (that step failed or returned none)", name, ref)
	}
	return []byte(s)
}

// callerToken is the caller's bearer token: "admin", "clearing" or an
// institution id; def when the step names none.
func callerToken(caller, def string) string {
	if caller == "" {
		caller = def
	}
	switch caller {
	case "admin":
		return adminToken
	case "clearing":
		return clearingToken
	}
	return institutionToken(caller)
}

func (r *clearingReplay) step(i int, st clearingFileStep) {
	t := r.t
	name := fmt.Sprintf("step %d %s", i, st.Call)
	req := r.resolve(name, st.Request)
	exp, err := expectOf(r.resolve(name, st.Expect))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	switch st.Call {
	case "Settle":
		var in pb.SettleRequest
		unmarshalInto(t, req, &in)
		ctx, cancel := as(callerToken(st.Caller, in.GetInstitutionId()))
		resp, err := r.ts.settlement.Settle(ctx, &in)
		cancel()
		if err == nil {
			r.ids[i] = resp.GetSettlement().GetSettlementId()
		}
		if r.outcome(name, exp, err) {
			r.subset(name, exp, resp.GetSettlement())
		}
	case "ReverseSettlement":
		var in pb.ReverseSettlementRequest
		unmarshalInto(t, req, &in)
		caller := st.Caller
		if caller == "" { // the settling institution
			ctx, cancel := as(adminToken)
			got, err := r.ts.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: in.GetSettlementId()})
			cancel()
			must(t, err)
			caller = got.GetSettlement().GetInstitutionId()
		}
		ctx, cancel := as(callerToken(caller, ""))
		resp, err := r.ts.settlement.ReverseSettlement(ctx, &in)
		cancel()
		if err == nil {
			r.ids[i] = resp.GetSettlement().GetSettlementId()
		}
		if r.outcome(name, exp, err) {
			r.subset(name, exp, resp.GetSettlement())
		}
	case "RunClearing":
		var in pb.RunClearingRequest
		unmarshalInto(t, req, &in)
		ctx, cancel := as(callerToken(st.Caller, "clearing"))
		res, err := readRun(ctx, r.clearing, &in)
		cancel()
		if err == nil {
			r.ids[i] = res.summary.GetRunId()
		}
		if r.outcome(name, exp, err) {
			checkProgress(t, res)
			want := &pb.ClearingSummary{}
			unmarshalInto(t, mustJSON(t, exp), want)
			if res.summary.GetRunId() == "" {
				t.Errorf("%s: no run id", name)
			}
			want.RunId = res.summary.GetRunId() // server-made
			wantProto(t, name+" summary", res.summary, want)
		}
	case "GetStatement":
		var in pb.GetStatementRequest
		unmarshalInto(t, req, &in)
		ctx, cancel := as(callerToken(st.Caller, "clearing"))
		resp, err := r.clearing.GetStatement(ctx, &in)
		cancel()
		if r.outcome(name, exp, err) {
			r.whole(name, exp, resp, &pb.GetStatementResponse{})
		}
	case "Reconcile":
		var in pb.ReconcileRequest
		unmarshalInto(t, req, &in)
		ctx, cancel := as(callerToken(st.Caller, "clearing"))
		resp, err := r.clearing.Reconcile(ctx, &in)
		cancel()
		if r.outcome(name, exp, err) {
			r.whole(name, exp, resp, &pb.ReconcileResponse{})
		}
	case "PutCapitationContract":
		var in pb.PutCapitationContractRequest
		unmarshalInto(t, req, &in)
		ctx, cancel := as(callerToken(st.Caller, "clearing"))
		resp, err := r.clearing.PutCapitationContract(ctx, &in)
		cancel()
		if r.outcome(name, exp, err) {
			r.whole(name, exp, resp, &pb.PutCapitationContractResponse{})
		}
	case "EnrollMembers":
		var raws []json.RawMessage
		if err := json.Unmarshal(req, &raws); err != nil {
			t.Fatalf("%s: the request is a list of EnrollMembersRequest: %v", name, err)
		}
		msgs := make([]*pb.EnrollMembersRequest, len(raws))
		for j, m := range raws {
			msgs[j] = &pb.EnrollMembersRequest{}
			unmarshalInto(t, m, msgs[j])
		}
		resp, err := r.enroll(callerToken(st.Caller, "clearing"), msgs)
		if r.outcome(name, exp, err) {
			// A reason is words for people: present, not compared.
			for _, rej := range resp.GetRejections() {
				if rej.GetReason() == "" {
					t.Errorf("%s: rejection %v without a reason", name, rej)
				}
				rej.Reason = ""
			}
			r.whole(name, exp, resp, &pb.EnrollMembersResponse{})
		}
	default:
		t.Fatalf("%s: unknown call", name)
	}
}

// outcome checks err against the expectation and reports whether the
// call succeeded as expected, so that its result is to be compared.
func (r *clearingReplay) outcome(name string, exp map[string]json.RawMessage, err error) bool {
	r.t.Helper()
	if raw, ok := exp["error"]; ok {
		var code string
		if e := json.Unmarshal(raw, &code); e != nil {
			r.t.Fatalf("%s: error: %v", name, e)
		}
		if err == nil {
			r.t.Errorf("%s: want %s, got success", name, code)
		} else if got := status.Code(err).String(); got != codeName(code) {
			r.t.Errorf("%s: want %s, got %s (%v)", name, code, got, err)
		}
		return false
	}
	if err != nil {
		r.t.Errorf("%s: unexpected error %v", name, err)
		return false
	}
	return true
}

// whole compares the whole response with the expectation.
func (r *clearingReplay) whole(name string, exp map[string]json.RawMessage, got, want proto.Message) {
	r.t.Helper()
	unmarshalInto(r.t, mustJSON(r.t, exp), want)
	wantProto(r.t, name, got, want)
}

// subset compares the top-level fields the expectation names, each
// exactly and whole (a breakdown has every field).
func (r *clearingReplay) subset(name string, exp map[string]json.RawMessage, got proto.Message) {
	r.t.Helper()
	raw, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(got)
	if err != nil {
		r.t.Fatal(err)
	}
	var gotMap map[string]json.RawMessage
	if err := json.Unmarshal(raw, &gotMap); err != nil {
		r.t.Fatal(err)
	}
	keys := make([]string, 0, len(exp))
	for k := range exp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var w, g any
		_ = json.Unmarshal(exp[k], &w)
		_ = json.Unmarshal(gotMap[k], &g)
		if !reflect.DeepEqual(w, g) {
			r.t.Errorf("%s: %s = %s, want %s", name, k, gotMap[k], exp[k])
		}
	}
}

func (r *clearingReplay) enroll(token string, msgs []*pb.EnrollMembersRequest) (*pb.EnrollMembersResponse, error) {
	ctx, cancel := as(token)
	defer cancel()
	stream, err := r.clearing.EnrollMembers(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			break // the server answered early; CloseAndRecv says why
		}
	}
	return stream.CloseAndRecv()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
