package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const clearUsage = `Usage:
  medsettle clear drg        --region R --scheme employee|resident --year Y --budget MONEY [--from DATE --to DATE] [options]
  medsettle clear budget     --region R --scheme employee|resident --year Y [options]
  medsettle clear capitation --contract ID [options]

options: [--final] [--csv DIR] [--html FILE] [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]

  drg         DRG points under the regional fund budget --budget (病组点数法);
              the period defaults to the whole year
  budget      every institution of the region against its budget for the
              year (总额预算); --scheme picks the policy's budget_clearing
  capitation  a capitation contract for its year (按人头包干)

A run is a draft unless --final (a final run is locked forever; a draft
replaces the previous draft of the same key). The summary goes to stdout;
--csv DIR writes summary.csv and institutions.csv there (DRG also
statements.csv, every case of every institution; capitation shares.csv and
components.csv), --html FILE a self-contained report with charts. The token
(--token or MEDSETTLE_TOKEN) needs the clearing or admin role.
`

// clearOptions is a parsed `medsettle clear` command line.
type clearOptions struct {
	conn    connFlags
	req     *pb.RunClearingRequest
	csvDir  string
	htmlOut string
}

// kindNames maps the command's kind words to the API's kinds.
var kindNames = map[string]pb.ClearingKind{
	"drg":        pb.ClearingKind_CLEARING_KIND_DRG,
	"budget":     pb.ClearingKind_CLEARING_KIND_BUDGET,
	"capitation": pb.ClearingKind_CLEARING_KIND_CAPITATION,
}

// parseClearFlags reads `clear KIND [flags]` and checks that the flags the
// kind needs are there and no other, so that nothing is dialed for a
// command line that cannot work.
func parseClearFlags(args []string, stderr io.Writer) (clearOptions, error) {
	var o clearOptions
	if len(args) == 0 || kindNames[args[0]] == 0 {
		fmt.Fprint(stderr, clearUsage)
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return o, errors.New("clear needs a kind first: drg, budget or capitation, then the flags")
		}
		return o, fmt.Errorf("clear: %q is not a kind; name drg, budget or capitation first, then the flags", args[0])
	}
	kind := args[0]
	var region, scheme, from, to, budget, contract string
	var year int
	var final bool
	fs := flag.NewFlagSet("clear "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, clearUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	o.conn.register(fs, "clearing or admin")
	fs.StringVar(&region, "region", "", "drg, budget: the region code (统筹区), e.g. 350500")
	fs.StringVar(&scheme, "scheme", "", "drg, budget: employee or resident")
	fs.IntVar(&year, "year", 0, "drg, budget: the year cleared")
	fs.StringVar(&from, "from", "", "drg: first day of the period (YYYY-MM-DD; default January 1)")
	fs.StringVar(&to, "to", "", "drg: last day of the period (YYYY-MM-DD; default December 31)")
	fs.StringVar(&budget, "budget", "", "drg: the regional fund budget for the period, e.g. 500000")
	fs.StringVar(&contract, "contract", "", "capitation: the contract id")
	fs.BoolVar(&final, "final", false, "lock the run forever (default: a draft)")
	fs.StringVar(&o.csvDir, "csv", "", "write the summary, institution lines (and DRG cases) as CSV files into this directory")
	fs.StringVar(&o.htmlOut, "html", "", "write a self-contained HTML report with charts to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("clear %s takes only flags; unexpected %q (see medsettle clear --help)", kind, fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.req = &pb.RunClearingRequest{Kind: kindNames[kind], Final: final}

	var missing, extra, problems []string
	need := func(names ...string) {
		for _, n := range names {
			if !set[n] {
				missing = append(missing, "--"+n)
			}
		}
	}
	refuse := func(names ...string) {
		for _, n := range names {
			if set[n] {
				extra = append(extra, "--"+n)
			}
		}
	}
	switch kind {
	case "drg":
		need("region", "scheme", "year", "budget")
		refuse("contract")
	case "budget":
		need("region", "scheme", "year")
		refuse("budget", "contract", "from", "to")
	case "capitation":
		need("contract")
		refuse("region", "scheme", "year", "budget", "from", "to")
	}
	sc, bad := scopeFlags(set, region, scheme, year)
	problems = append(problems, bad...)
	o.req.Region, o.req.Scheme, o.req.Year = sc.region, sc.scheme, sc.year
	for _, d := range []struct {
		name, value string
		dst         *string
	}{{"from", from, &o.req.PeriodFrom}, {"to", to, &o.req.PeriodTo}} {
		if !set[d.name] {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.value)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("--%s %q is not a date YYYY-MM-DD", d.name, d.value))
		case year != 0 && t.Year() != year:
			problems = append(problems, fmt.Sprintf("--%s %s is not in --year %d", d.name, d.value, year))
		}
		*d.dst = d.value
	}
	if set["budget"] {
		b, err := engine.ParseMoney(strings.TrimSpace(budget))
		if err != nil || !b.IsPositive() {
			problems = append(problems, fmt.Sprintf("--budget %q must be money above 0 with at most two decimals, e.g. 500000 or 1234.50", budget))
		}
		o.req.Budget = strings.TrimSpace(budget)
	}
	if set["contract"] {
		if o.req.ContractId = strings.TrimSpace(contract); o.req.ContractId == "" {
			problems = append(problems, "--contract is empty")
		}
	}
	var msgs []string
	if len(missing) > 0 {
		msgs = append(msgs, fmt.Sprintf("clear %s needs %s", kind, strings.Join(missing, ", ")))
	}
	if len(extra) > 0 {
		why := map[string]string{
			"drg":        "",
			"budget":     " (a budget run covers the whole year and takes each institution's budget from the registry)",
			"capitation": " (a capitation run takes region, scheme and year from the contract and covers its whole year)",
		}[kind]
		msgs = append(msgs, fmt.Sprintf("clear %s does not take %s%s", kind, strings.Join(extra, ", "), why))
	}
	msgs = append(msgs, problems...)
	if len(msgs) > 0 {
		return o, fmt.Errorf("%s\nexample: %s", strings.Join(msgs, "; "), clearExample[kind])
	}
	return o, nil
}

// clearExample is a working command line of each kind (the demo data's).
var clearExample = map[string]string{
	"drg":        "medsettle clear drg --region 350500 --scheme employee --year 2026 --budget " + demoDRGBudget,
	"budget":     "medsettle clear budget --region 350500 --scheme employee --year 2026",
	"capitation": "medsettle clear capitation --contract " + demoContractID,
}

// runClear is `medsettle clear drg|budget|capitation`.
func runClear(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, clearUsage)
		return nil
	}
	o, err := parseClearFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	_, err = clearAndReport(ctx, o, stdout, stderr)
	return err
}

// clearAndReport runs one clearing and writes its summary and reports.
func clearAndReport(ctx context.Context, o clearOptions, stdout, stderr io.Writer) (*pb.ClearingSummary, error) {
	if o.csvDir != "" {
		if err := os.MkdirAll(o.csvDir, 0o755); err != nil {
			return nil, fmt.Errorf("--csv: %w", err)
		}
	}
	if o.htmlOut != "" {
		if fi, err := os.Stat(filepath.Dir(o.htmlOut)); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--html %s: its directory does not exist", o.htmlOut)
		}
	}
	conn, ctx, err := o.conn.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := pb.NewClearingServiceClient(conn)
	sum, err := runClearing(ctx, client, o.req, newProgress(stderr))
	if err != nil {
		return nil, clearingHint(explainRPC(err, "RunClearing", o.conn.addr), o.req)
	}
	printSummary(stdout, sum)

	var written []string
	var counts costKindCounts
	if sum.GetKind() == pb.ClearingKind_CLEARING_KIND_DRG && (o.csvDir != "" || o.htmlOut != "") {
		// Cases go straight to statements.csv page by page: a run may
		// have millions.
		counts = costKindCounts{}
		var stw *statementsWriter
		if o.csvDir != "" {
			path := filepath.Join(o.csvDir, "statements.csv")
			if stw, err = newStatementsWriter(path); err != nil {
				return sum, fmt.Errorf("--csv: %w", err)
			}
			written = append(written, path)
		}
		err = fetchStatements(ctx, client, sum, newProgress(stderr), func(id string, page []*pb.StatementCase) error {
			counts.add(id, page)
			if stw != nil {
				return stw.write(id, page)
			}
			return nil
		})
		if stw != nil {
			if cerr := stw.close(); err == nil && cerr != nil {
				err = fmt.Errorf("--csv: %w", cerr)
			}
		}
		if err != nil {
			return sum, explainRPC(err, "GetStatement", o.conn.addr)
		}
	}
	if o.csvDir != "" || o.htmlOut != "" {
		fmt.Fprintln(stdout)
	}
	if o.csvDir != "" {
		files, err := writeCSVReport(o.csvDir, sum)
		if err != nil {
			return sum, fmt.Errorf("--csv: %w", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", strings.Join(append(files, written...), ", "))
	}
	if o.htmlOut != "" {
		if err := writeHTMLReport(o.htmlOut, sum, counts); err != nil {
			return sum, fmt.Errorf("--html: %w", err)
		}
		fmt.Fprintf(stdout, "wrote %s (open it in a browser)\n", o.htmlOut)
	}
	return sum, nil
}

// runClearing calls RunClearing, shows its progress and returns the
// summary, the stream's last message.
func runClearing(ctx context.Context, client pb.ClearingServiceClient, req *pb.RunClearingRequest, bar *progress) (*pb.ClearingSummary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.RunClearing(ctx, req)
	if err != nil {
		return nil, err
	}
	defer bar.end()
	label := "clearing " + kindWord(req.GetKind())
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the server ended the run without a summary")
		}
		if err != nil {
			return nil, err
		}
		if pr := msg.GetProgress(); pr != nil {
			bar.update(false, label, pr.GetProcessed(), pr.GetTotal(), "settlements", "")
			continue
		}
		if s := msg.GetSummary(); s != nil {
			if bar.started {
				bar.update(true, label, s.GetSettlements(), s.GetSettlements(), "settlements", "")
			}
			return s, nil
		}
	}
}

// statementPageSize is the page size of GetStatement calls (the most the
// server gives a page; tests make it small to page through).
var statementPageSize int32 = api.MaxStatementPage

// fetchStatements reads every DRG case of every institution of the run,
// page by page, and hands each page to sink.
func fetchStatements(ctx context.Context, client pb.ClearingServiceClient, sum *pb.ClearingSummary, bar *progress,
	sink func(institutionID string, page []*pb.StatementCase) error) error {
	defer bar.end()
	var read, total int64
	for _, in := range sum.GetInstitutions() {
		total += in.GetCases()
	}
	for _, in := range sum.GetInstitutions() {
		token := ""
		for {
			resp, err := client.GetStatement(ctx, &pb.GetStatementRequest{
				RunId: sum.GetRunId(), InstitutionId: in.GetInstitutionId(), PageSize: statementPageSize, PageToken: token,
			})
			if err != nil {
				return fmt.Errorf("statement of %s: %w", in.GetInstitutionId(), err)
			}
			page := resp.GetStatement().GetCases()
			if err := sink(in.GetInstitutionId(), page); err != nil {
				return err
			}
			read += int64(len(page))
			bar.update(false, "reading statements", read, total, "cases", "")
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	bar.update(true, "reading statements", read, total, "cases", "")
	return nil
}

// costKindCounts counts each institution's cases by cost kind.
type costKindCounts map[string]map[pb.CostKind]int

func (c costKindCounts) add(institutionID string, page []*pb.StatementCase) {
	n := c[institutionID]
	if n == nil {
		n = map[pb.CostKind]int{}
		c[institutionID] = n
	}
	for _, k := range page {
		n[k.GetCostKind()]++
	}
}

// hintedError is a failed call said plainly, with what to do about it on
// a line of its own; it wraps the call's error (a gRPC status).
type hintedError struct {
	msg  string
	err  error
	hint string
}

func (e *hintedError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + "\n  what to do: " + e.hint
}

func (e *hintedError) Unwrap() error { return e.err }

// explainRPC says what a failed call means and what to do about it.
func explainRPC(err error, call, addr string) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", call, err)
	}
	var hint string
	switch st.Code() {
	case codes.Unavailable:
		hint = fmt.Sprintf("no medsettle server answers at %s: start one (medsettle serve --demo) or pass --addr HOST:PORT (and --tls-ca FILE for a TLS server)", addr)
	case codes.Unauthenticated:
		hint = "pass a valid bearer token with --token or MEDSETTLE_TOKEN (role clearing or admin)"
	case codes.PermissionDenied:
		hint = "this token's role may not do this: clearing needs a token with role clearing or admin"
	case codes.InvalidArgument:
		hint = "fix what the server names above (medsettle clear --help lists the flags)"
	case codes.NotFound:
		hint = "check the ids named above"
	case codes.Unimplemented:
		hint = fmt.Sprintf("the server at %s does not serve ClearingService: run a medsettle server of this version", addr)
	}
	return &hintedError{msg: fmt.Sprintf("%s failed: %s: %s", call, st.Code(), st.Message()), err: err, hint: hint}
}

// clearingHint says what to do about a refused run in the terms of the
// command's flags.
func clearingHint(err error, req *pb.RunClearingRequest) error {
	var h *hintedError
	if !errors.As(err, &h) {
		return err
	}
	st, _ := status.FromError(h.err)
	switch {
	case st.Code() == codes.NotFound && req.GetKind() == pb.ClearingKind_CLEARING_KIND_CAPITATION:
		h.hint = "check --contract: PutCapitationContract creates a contract (medsettle demo settle creates " + demoContractID + ")"
	case st.Code() == codes.NotFound:
		h.hint = "check --region: the server has no policy for it (serve --demo loads 350500 employee and 610300 resident)"
	case st.Code() == codes.FailedPrecondition && strings.Contains(st.Message(), "final"):
		h.hint = "a final run is locked forever: run a draft (without --final), or clear a period no final run covers"
	case st.Code() == codes.FailedPrecondition:
		h.hint = "load a policy (PolicyService.PutPolicy) for the region and scheme, in force on the period's last day, with a drg section for DRG runs or budget_clearing for BUDGET runs"
	}
	return err
}

// kindWord is the command's word for a kind.
func kindWord(k pb.ClearingKind) string {
	for w, v := range kindNames {
		if v == k {
			return w
		}
	}
	return k.String()
}

// schemeWord is "employee" or "resident".
func schemeWord(s pb.Scheme) string {
	if s == pb.Scheme_SCHEME_UNSPECIFIED {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "SCHEME_"))
}

// costKindWord is NORMAL, HIGH or LOW.
func costKindWord(k pb.CostKind) string {
	return strings.TrimPrefix(k.String(), "COST_KIND_")
}

// summaryFields are the summary's figures in the order printed, with
// the kinds they apply to.
func summaryFields(s *pb.ClearingSummary) [][2]string {
	final := "no (draft: the next draft of this key replaces it)"
	if s.GetFinal() {
		final = "yes (locked)"
	}
	rows := [][2]string{
		{"run id", s.GetRunId()},
		{"kind", kindWord(s.GetKind())},
	}
	if s.GetKind() == pb.ClearingKind_CLEARING_KIND_CAPITATION {
		rows = append(rows, [2]string{"contract", firstNonEmpty(s.GetContractId(), s.GetCapitation().GetContractId())})
	}
	rows = append(rows,
		[2]string{"region", s.GetRegion()},
		[2]string{"scheme", schemeWord(s.GetScheme())},
		[2]string{"period", s.GetPeriodFrom() + " to " + s.GetPeriodTo()},
		[2]string{"final", final},
		[2]string{"settlements", strconv.FormatInt(s.GetSettlements(), 10)},
	)
	switch s.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_DRG:
		rows = append(rows,
			[2]string{"ungrouped", fmt.Sprintf("%d (basic fund %s, left to itemized payment)", s.GetUngrouped(), s.GetUngroupedBasicFund())},
			[2]string{"budget B", s.GetBudget()},
			[2]string{"personal total P", s.GetPersonalTotal()},
			[2]string{"total points T", s.GetTotalPoints()},
			[2]string{"point value V", s.GetPointValue()},
			[2]string{"paid total", s.GetPaidTotal()},
		)
	case pb.ClearingKind_CLEARING_KIND_BUDGET:
		rows = append(rows,
			[2]string{"budget (sum of G)", s.GetBudget()},
			[2]string{"paid total", s.GetPaidTotal()},
		)
	case pb.ClearingKind_CLEARING_KIND_CAPITATION:
		c := s.GetCapitation()
		rows = append(rows,
			[2]string{"members", strconv.FormatInt(c.GetMembers(), 10)},
			[2]string{"budget K", firstNonEmpty(c.GetBudget(), s.GetBudget())},
			[2]string{"actual A", c.GetActual()},
		)
		if c.GetDeficit() == "" || isZeroMoney(c.GetDeficit()) {
			rows = append(rows, [2]string{"surplus K − A", c.GetSurplus()})
		} else {
			rows = append(rows,
				[2]string{"deficit A − K", c.GetDeficit()},
				[2]string{"fund covers", c.GetFundCovers()},
				[2]string{"contract bears", c.GetContractBears()},
			)
		}
		rows = append(rows, [2]string{"paid total K + fund covers", s.GetPaidTotal()})
	}
	return rows
}

// institutionTable is the institution lines in the kind's columns.
func institutionTable(s *pb.ClearingSummary) (head []string, rows [][]string) {
	switch s.GetKind() {
	case pb.ClearingKind_CLEARING_KIND_DRG:
		head = []string{"institution", "cases", "points", "personal", "basic fund", "payment", "difference"}
		for _, in := range s.GetInstitutions() {
			rows = append(rows, []string{in.GetInstitutionId(), strconv.FormatInt(in.GetCases(), 10), in.GetPoints(),
				in.GetPersonalTotal(), in.GetBasicFund(), in.GetPayment(), in.GetDifference()})
		}
	case pb.ClearingKind_CLEARING_KIND_BUDGET:
		head = []string{"institution", "cases", "budget G", "claimed C", "retained", "shared", "paid"}
		for _, in := range s.GetInstitutions() {
			rows = append(rows, []string{in.GetInstitutionId(), strconv.FormatInt(in.GetCases(), 10), in.GetBudget(),
				in.GetClaimed(), in.GetRetained(), in.GetShared(), in.GetPaid()})
		}
	default:
		head = []string{"institution", "cases", "basic fund", "paid"}
		for _, in := range s.GetInstitutions() {
			rows = append(rows, []string{in.GetInstitutionId(), strconv.FormatInt(in.GetCases(), 10), in.GetBasicFund(), in.GetPaid()})
		}
	}
	return head, rows
}

// printSummary writes the run's summary as readable tables.
func printSummary(w io.Writer, s *pb.ClearingSummary) {
	fields := summaryFields(s)
	width := 0
	for _, f := range fields {
		width = max(width, len([]rune(f[0])))
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%-*s  %s\n", width, f[0], f[1]) // fmt pads by runes
	}
	if head, rows := institutionTable(s); len(rows) > 0 {
		fmt.Fprintln(w)
		writeTable(w, head, rows)
	} else if s.GetKind() != pb.ClearingKind_CLEARING_KIND_CAPITATION {
		fmt.Fprintln(w, "\nno institution lines")
	}
	if c := s.GetCapitation(); c != nil && s.GetKind() == pb.ClearingKind_CLEARING_KIND_CAPITATION {
		if len(c.GetShares()) > 0 {
			fmt.Fprintln(w, "\nsurplus shares")
			var rows [][]string
			for _, sh := range c.GetShares() {
				rows = append(rows, []string{sh.GetParty(), sh.GetAmount()})
			}
			writeTable(w, []string{"party", "amount"}, rows)
		}
		if len(c.GetComponents()) > 0 {
			fmt.Fprintln(w, "\ncomponents")
			var rows [][]string
			for _, cp := range c.GetComponents() {
				rows = append(rows, []string{cp.GetName(), cp.GetBudget(), cp.GetActual()})
			}
			writeTable(w, []string{"component", "budget K", "actual A"}, rows)
		}
	}
}

// writeTable writes rows under head, the first column left-aligned and
// the others (figures) right-aligned.
func writeTable(w io.Writer, head []string, rows [][]string) {
	widths := make([]int, len(head))
	for i, h := range head {
		widths[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// isZeroMoney reports whether a money string of the API is zero ("0.00",
// "-0"); false when it is not money at all.
func isZeroMoney(s string) bool {
	var m engine.Money
	return m.UnmarshalText([]byte(s)) == nil && m.IsZero()
}
