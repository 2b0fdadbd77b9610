package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/examples"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const demoUsage = `Usage:
  medsettle demo settle [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]

demo settle fills a server started with --demo with the clearing demo of
examples/demo/clearing.json, through the gRPC API: it registers two more
hospitals (QZ-H4, QZ-H5) and 76 persons (employees QE01-QE24 of 350500,
residents SX01-SX52 of 610300), settles 83 claims of 2026 (inpatient stays
with DRG codes of the demo policies' groups, a few without one, chronic and
outpatient visits, two cross-region visits), reverses one, and sets up the
capitation contract SX-2026 with the 48 members of examples/demo/members.csv.
Every call is idempotent: a rerun changes nothing. The token needs the
admin role (any token works on an open-mode server).
`

// demoContractID is the capitation contract of the demo data.
const demoContractID = "SX-2026"

// demoDRGBudget is the 2026 DRG fund budget of region 350500's employees
// that the demo data is sized for (README.md): B = 327,750.00 is about
// what the grouped cases drew item by item, so that some hospitals come
// out in surplus and some in overspend.
const demoDRGBudget = "345000"

// demoReversal reverses the settlement made for the settle request Target.
type demoReversal struct {
	RequestID     string `json:"requestId"`
	InstitutionID string `json:"institutionId"`
	Target        string `json:"target"`
	Reason        string `json:"reason"`
}

// demoData is examples/demo/clearing.json, its messages in protojson.
type demoData struct {
	Institutions []json.RawMessage `json:"institutions"`
	Persons      []json.RawMessage `json:"persons"`
	Settlements  []json.RawMessage `json:"settlements"`
	Reversals    []demoReversal    `json:"reversals"`
	Contracts    []json.RawMessage `json:"contracts"`
}

// demoSet is the demo data as API messages.
type demoSet struct {
	institutions []*pb.Institution
	persons      []*pb.Person
	settlements  []*pb.SettleRequest
	reversals    []demoReversal
	contracts    []*pb.CapitationContract
	// members are the persons of examples/demo/members.csv, enrolled in
	// the first contract (demoContractID).
	members []string
}

// loadDemoSet reads the embedded examples/demo/clearing.json.
func loadDemoSet() (*demoSet, error) {
	raw, err := examples.FS.ReadFile("demo/clearing.json")
	if err != nil {
		return nil, err
	}
	var doc demoData
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("demo/clearing.json: %w", err)
	}
	set := &demoSet{reversals: doc.Reversals}
	for i, r := range doc.Institutions {
		m := &pb.Institution{}
		if err := protojson.Unmarshal(r, m); err != nil {
			return nil, fmt.Errorf("demo/clearing.json institution %d: %w", i, err)
		}
		set.institutions = append(set.institutions, m)
	}
	for i, r := range doc.Persons {
		m := &pb.Person{}
		if err := protojson.Unmarshal(r, m); err != nil {
			return nil, fmt.Errorf("demo/clearing.json person %d: %w", i, err)
		}
		set.persons = append(set.persons, m)
	}
	for i, r := range doc.Settlements {
		m := &pb.SettleRequest{}
		if err := protojson.Unmarshal(r, m); err != nil {
			return nil, fmt.Errorf("demo/clearing.json settlement %d: %w", i, err)
		}
		set.settlements = append(set.settlements, m)
	}
	for i, r := range doc.Contracts {
		m := &pb.CapitationContract{}
		if err := protojson.Unmarshal(r, m); err != nil {
			return nil, fmt.Errorf("demo/clearing.json contract %d: %w", i, err)
		}
		set.contracts = append(set.contracts, m)
	}
	raw, err = examples.FS.ReadFile("demo/members.csv")
	if err != nil {
		return nil, err
	}
	rd := csv.NewReader(bytes.NewReader(raw))
	if err := readHeader(rd, memberColumns); err != nil {
		return nil, fmt.Errorf("demo/members.csv: %w", err)
	}
	rows, err := rd.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("demo/members.csv: %w", err)
	}
	for _, r := range rows {
		set.members = append(set.members, strings.TrimSpace(r[0]))
	}
	return set, nil
}

// runDemo is `medsettle demo settle`.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, demoUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "settle" && args[0] != "load") {
		fmt.Fprint(stderr, demoUsage)
		if len(args) == 0 {
			return errors.New("demo needs a step: settle")
		}
		return fmt.Errorf("demo: unknown step %q; the step is settle", args[0])
	}
	var f connFlags
	fs := flag.NewFlagSet("demo settle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage) }
	f.register(fs, "admin")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo settle takes only flags; unexpected %q", fs.Args())
	}
	set, err := loadDemoSet()
	if err != nil {
		return err
	}
	conn, ctx, err := f.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return demoSettle(ctx, demoClients{
		registry:   pb.NewRegistryServiceClient(conn),
		settlement: pb.NewSettlementServiceClient(conn),
		clearing:   pb.NewClearingServiceClient(conn),
	}, set, f.addr, stdout, stderr)
}

// demoClients are the services demo settle calls.
type demoClients struct {
	registry   pb.RegistryServiceClient
	settlement pb.SettlementServiceClient
	clearing   pb.ClearingServiceClient
}

// demoTally adds up the settlements of one institution.
type demoTally struct {
	region                    string
	inpatient, drg, ungrouped int
	other                     int
	total, basicFund          engine.Money
}

// demoSettle sends the demo data and prints what it did.
func demoSettle(ctx context.Context, c demoClients, set *demoSet, addr string, stdout, stderr io.Writer) error {
	hint := func(err error, call string) error {
		err = explainRPC(err, call, addr)
		var h *hintedError
		if errors.As(err, &h) {
			switch status.Code(err) {
			case codes.FailedPrecondition, codes.NotFound:
				h.hint = "the demo needs a server started with --demo (its policies, hospitals and persons): go run ./cmd/medsettle serve --demo"
			case codes.PermissionDenied:
				h.hint = "demo settle registers hospitals and persons: it needs a token with the admin role"
			}
		}
		return err
	}
	for _, in := range set.institutions {
		if _, err := c.registry.PutInstitution(ctx, &pb.PutInstitutionRequest{Institution: in}); err != nil {
			return hint(err, "PutInstitution "+in.GetInstitutionId())
		}
	}
	for _, p := range set.persons {
		if _, err := c.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: p}); err != nil {
			return hint(err, "PutPerson "+p.GetPersonId())
		}
	}
	fmt.Fprintf(stdout, "registered %d hospitals (%s) and %d persons (%s)\n",
		len(set.institutions), idList(set.institutions, func(in *pb.Institution) string { return in.GetInstitutionId() }),
		len(set.persons), idRanges(set.persons))

	bar := newProgress(stderr)
	ids := map[string]string{} // settle request id → settlement id
	tally := map[string]*demoTally{}
	for i, req := range set.settlements {
		resp, err := c.settlement.Settle(ctx, req)
		if err != nil {
			bar.end()
			return hint(err, "Settle "+req.GetRequestId())
		}
		st := resp.GetSettlement()
		ids[req.GetRequestId()] = st.GetSettlementId()
		t := tally[req.GetInstitutionId()]
		if t == nil {
			t = &demoTally{}
			tally[req.GetInstitutionId()] = t
		}
		switch {
		case req.GetVisitType() != pb.VisitType_VISIT_TYPE_INPATIENT:
			t.other++
		case req.GetDrgCode() != "":
			t.inpatient++
			t.drg++
		default:
			t.inpatient++
			t.ungrouped++
		}
		total, err1 := engine.ParseMoney(st.GetBreakdown().GetTotal())
		basic, err2 := engine.ParseMoney(st.GetBreakdown().GetBasicFund())
		if err := errors.Join(err1, err2); err != nil {
			bar.end()
			return fmt.Errorf("Settle %s answered a breakdown that is not money: %w", req.GetRequestId(), err)
		}
		t.total = t.total.Add(total)
		t.basicFund = t.basicFund.Add(basic)
		bar.update(false, "settling", int64(i+1), int64(len(set.settlements)), "claims", "")
	}
	bar.update(true, "settling", int64(len(set.settlements)), int64(len(set.settlements)), "claims", "")
	bar.end()
	fmt.Fprintf(stdout, "settled %d claims of 2026 (request ids DEMO-QZ-… and DEMO-BJ-…; a rerun answers the same settlements):\n", len(set.settlements))
	var rows [][]string
	for _, id := range sortedKeys(tally) {
		t := tally[id]
		rows = append(rows, []string{id, strconv.Itoa(t.inpatient), strconv.Itoa(t.drg), strconv.Itoa(t.ungrouped), strconv.Itoa(t.other),
			t.total.String(), t.basicFund.String()})
	}
	writeTable(stdout, []string{"institution", "inpatient", "with DRG code", "ungrouped", "outpatient", "total", "basic fund"}, rows)

	for _, rv := range set.reversals {
		sid, ok := ids[rv.Target]
		if !ok {
			return fmt.Errorf("demo data: reversal %s targets %s, which is not a demo settlement", rv.RequestID, rv.Target)
		}
		resp, err := c.settlement.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: rv.RequestID, SettlementId: sid, Reason: rv.Reason})
		if err != nil {
			return hint(err, "ReverseSettlement "+rv.RequestID)
		}
		fmt.Fprintf(stdout, "reversed %s (settlement %s at %s, basic fund %s): %s\n", rv.Target, sid, rv.InstitutionID,
			resp.GetSettlement().GetBreakdown().GetBasicFund(), rv.Reason)
	}

	for _, ct := range set.contracts {
		if _, err := c.clearing.PutCapitationContract(ctx, &pb.PutCapitationContractRequest{Contract: ct}); err != nil {
			return hint(err, "PutCapitationContract "+ct.GetContractId())
		}
		var members []string
		if ct.GetContractId() == demoContractID {
			members = set.members
		}
		if err := enrolDemoMembers(ctx, c.clearing, ct.GetContractId(), members); err != nil {
			return hint(err, "EnrollMembers "+ct.GetContractId())
		}
		got, err := c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: ct.GetContractId()})
		if err != nil {
			return hint(err, "GetCapitationContract "+ct.GetContractId())
		}
		var comps []string
		for _, cp := range ct.GetComponents() {
			comps = append(comps, fmt.Sprintf("%s %s", cp.GetName(), cp.GetRate()))
		}
		fmt.Fprintf(stdout, "capitation contract %s (lead %s, %s %s %d; a member a year: %s): %d members (examples/demo/members.csv)\n",
			ct.GetContractId(), ct.GetInstitutionId(), ct.GetRegion(), schemeWord(ct.GetScheme()), ct.GetYear(),
			strings.Join(comps, ", "), got.GetContract().GetMembers())
	}
	fmt.Fprintf(stdout, `
next, clear them:
  medsettle clear drg --region 350500 --scheme employee --year 2026 --budget %s --html report.html
  medsettle clear budget --region 350500 --scheme employee --year 2026
  medsettle clear capitation --contract %s
`, demoDRGBudget, demoContractID)
	return nil
}

// enrolDemoMembers enrols the members in one EnrollMembers call. A
// member enrolled before counts as enrolled again and changes nothing; any
// refusal means the server does not hold the demo data.
func enrolDemoMembers(ctx context.Context, client pb.ClearingServiceClient, contract string, members []string) error {
	if len(members) == 0 {
		return nil
	}
	stream, err := client.EnrollMembers(ctx)
	if err != nil {
		return err
	}
	for _, id := range members {
		if err := stream.Send(&pb.EnrollMembersRequest{ContractId: contract, PersonId: id}); err != nil {
			break // the error comes with CloseAndRecv
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	if len(resp.GetRejections()) > 0 {
		r := resp.GetRejections()[0]
		return fmt.Errorf("%s refused %d of the demo members, %s first: %s", contract, resp.GetRejected(), r.GetPersonId(), r.GetReason())
	}
	return nil
}

// idList joins the ids of xs.
func idList[T any](xs []T, id func(T) string) string {
	var s []string
	for _, x := range xs {
		s = append(s, id(x))
	}
	return strings.Join(s, ", ")
}

// idRanges summarises person ids by prefix: "QE01-QE24, SX01-SX16".
func idRanges(ps []*pb.Person) string {
	first, last := map[string]string{}, map[string]string{}
	var order []string
	for _, p := range ps {
		id := p.GetPersonId()
		prefix := strings.TrimRight(id, "0123456789")
		if _, ok := first[prefix]; !ok {
			first[prefix] = id
			order = append(order, prefix)
		}
		last[prefix] = id
	}
	var out []string
	for _, pre := range order {
		if first[pre] == last[pre] {
			out = append(out, first[pre])
		} else {
			out = append(out, first[pre]+"-"+last[pre])
		}
	}
	return strings.Join(out, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
