package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// personColumns and institutionColumns are the CSV headers import reads.
// The last column of persons, identities, may be left out (files written
// before it existed); optionalColumns says how many trailing columns of
// each header may be.
var (
	personColumns = []string{"person_id", "name", "region", "scheme", "employment", "category", "contribution_years", "account_balance",
		"identities"}
	institutionColumns = []string{"institution_id", "name", "region", "level", "budgets"}
	optionalColumns    = map[string]int{"persons": 1}
)

const importUsage = `Usage:
  medsettle import persons FILE.csv      [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]
  medsettle import institutions FILE.csv [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]
  medsettle import members FILE.csv --contract ID [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]

persons.csv columns:      ` + "person_id,name,region,scheme,employment,category,contribution_years,account_balance,identities" + `
  scheme EMPLOYEE|RESIDENT; employment EMPLOYED|RETIRED or empty; category ORDINARY|DESTITUTE|
  MINIMUM_LIVING|MONITORED|POVERTY_ALLEVIATED or empty; account_balance money ("1000.00") or empty:
  an opening balance, taken for a new person only (re-importing a person keeps the live balance);
  identities: dated categories (身份) as CATEGORY:FROM:TO entries separated by ";", e.g.
  "MINIMUM_LIVING:2026-01-01:2026-12-31;MONITORED:2026-07-01:2026-12-31": a category as the
  category column takes it (not ORDINARY), both dates YYYY-MM-DD and inclusive; several may
  hold at once, but not two overlapping periods of one category. Empty: none (re-importing a
  person replaces its identities). The column may be left out of the header altogether.
institutions.csv columns: institution_id,name,region,level,budgets
  level 1-3; budgets "2026:60000;2027:65000" or empty
members.csv column:       person_id
  enrols each person in the capitation contract --contract (persons of the
  contract's region and scheme, in no other contract that year)

The import talks to a running server (any store) with an admin token
(--token or MEDSETTLE_TOKEN; a clearing token for members). Good rows are
stored; every rejected row is listed with its line number and reason, and
the exit status is 1 if any was. An id may appear once in a file: rows
sharing one are all rejected, with the lines that share it. The exit status
is 2 when the import stops: a bad header, flags or file, a server that
cannot be reached or that refuses the token.

Progress goes to stderr: a bar on a terminal, a plain line every few
seconds otherwise.
`

// connFlags are the flags every client command shares to reach a server:
// --addr, --token (or MEDSETTLE_TOKEN) and --tls-ca.
type connFlags struct {
	addr, token, tlsCA string
}

// register adds the connection flags to fs; role names the token's role
// in the help text.
func (f *connFlags) register(fs *flag.FlagSet, role string) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:50051", "address of the medsettle server")
	fs.StringVar(&f.token, "token", os.Getenv("MEDSETTLE_TOKEN"), role+" bearer token (also MEDSETTLE_TOKEN); empty for an open-mode server")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "verify the server's TLS certificate with this CA (PEM); empty: plaintext")
}

// connect dials the server and returns the connection and ctx carrying
// the bearer token.
func (f connFlags) connect(ctx context.Context) (*grpc.ClientConn, context.Context, error) {
	conn, err := dial(f)
	if err != nil {
		return nil, ctx, err
	}
	if f.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+f.token)
	}
	return conn, ctx, nil
}

// runImport is `medsettle import persons|institutions|members FILE.csv`.
// Its error is an *exitError: code 1 when rows were rejected, 2 when the
// import stopped.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rejected, err := importFile(ctx, args, stdout, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return &exitError{code: 2, err: err}
	case rejected != nil:
		return &exitError{code: 1, err: rejected}
	}
	return nil
}

// importFile runs the import; err stops it, rejected reports rejected rows.
func importFile(ctx context.Context, args []string, stdout, stderr io.Writer) (rejected, err error) {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, importUsage)
		return nil, flag.ErrHelp
	}
	if len(args) < 2 || (args[0] != "persons" && args[0] != "institutions" && args[0] != "members") {
		fmt.Fprint(stderr, importUsage)
		return nil, errors.New("import needs persons, institutions or members and a CSV file")
	}
	kind, path := args[0], args[1]
	var f connFlags
	var contract string
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	f.register(fs, "admin (members: clearing or admin)")
	fs.StringVar(&contract, "contract", "", "members: the capitation contract to enrol them in")
	if err := fs.Parse(args[2:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("import %s takes one file, then flags; unexpected %q", kind, fs.Args())
	}
	switch {
	case kind == "members" && contract == "":
		return nil, errors.New("import members needs --contract ID: the capitation contract to enrol the persons in (PutCapitationContract creates it; `medsettle demo settle` creates SX-2026)")
	case kind != "members" && contract != "":
		return nil, fmt.Errorf("--contract applies to import members only, not to %s", kind)
	}
	columns := map[string][]string{"persons": personColumns, "institutions": institutionColumns, "members": memberColumns}[kind]
	scan, err := scanFile(path, columns, optionalColumns[kind])
	if err != nil {
		return nil, err // before any progress is drawn
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the CSV file: %w", err)
	}
	defer file.Close()
	conn, ctx, err := f.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rd := csv.NewReader(bufio.NewReader(file))
	rd.FieldsPerRecord = -1
	rep := newImportReport(kind, scan.rows, stderr)
	rep.addr, rep.duplicates, rep.idColumn = f.addr, scan.duplicates, columns[0]
	switch kind {
	case "persons":
		err = importPersons(ctx, pb.NewRegistryServiceClient(conn), rd, rep, api.MaxImportPersons)
	case "members":
		err = importMembers(ctx, pb.NewClearingServiceClient(conn), contract, rd, rep, api.MaxEnrollMembers)
	default:
		err = importInstitutions(ctx, pb.NewRegistryServiceClient(conn), rd, rep)
	}
	rep.finish(stdout)
	if err != nil {
		return nil, err
	}
	if n := rep.rejections(); n > 0 {
		return fmt.Errorf("%d of %d rows rejected: fix the rows listed above and import the file again (rows already stored are updated in place)", n, rep.done), nil
	}
	return nil, nil
}

// fileScan is what a first pass over a CSV file finds.
type fileScan struct {
	rows       int              // data rows (records after the header)
	duplicates map[string][]int // an id on more than one line → those lines
}

// scanFile checks the header of the CSV file at path against columns (of
// which the last optional may be left out), counts its rows and finds the
// ids (first column) on more than one line.
func scanFile(path string, columns []string, optional int) (fileScan, error) {
	file, err := os.Open(path)
	if err != nil {
		return fileScan{}, fmt.Errorf("open the CSV file: %w", err)
	}
	defer file.Close()
	rd := csv.NewReader(bufio.NewReader(file))
	rd.FieldsPerRecord = -1
	if _, err := readHeaderColumns(rd, columns, optional); err != nil {
		return fileScan{}, fmt.Errorf("%s: %w", path, err)
	}
	scan := fileScan{duplicates: map[string][]int{}}
	lines := map[string][]int{}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		scan.rows++
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return fileScan{}, fmt.Errorf("read %s: %w", path, err)
		}
		if err != nil {
			continue
		}
		if id := field(rec, 0); id != "" {
			line, _ := rd.FieldPos(0)
			lines[id] = append(lines[id], line)
		}
	}
	for id, ls := range lines {
		if len(ls) > 1 {
			scan.duplicates[id] = ls
		}
	}
	return scan, nil
}

// duplicate reports a row whose id is on other lines of the file too: all
// of them are rejected rather than letting the last one win.
func (r *importReport) duplicate(line int, id string) bool {
	lines, ok := r.duplicates[id]
	if !ok {
		return false
	}
	words := make([]string, len(lines))
	for i, l := range lines {
		words[i] = strconv.Itoa(l)
	}
	r.reject(line, id, fmt.Sprintf("%s %s is on lines %s of the file: keep one row per id and import again",
		r.idColumn, id, strings.Join(words, " and ")))
	return true
}

// stopped says why an import stopped: the server could not be reached at
// all, or it answered with an error. stored says what was stored before.
func (r *importReport) stopped(err error, stored string) error {
	st, ok := status.FromError(err)
	if ok && unreachable(st) {
		return &hintedError{
			msg:  fmt.Sprintf("could not reach a medsettle server at --addr %s: %s (%s)", r.addr, st.Message(), stored),
			err:  err,
			hint: "check that `medsettle serve` runs there, that --addr names its host and port, and pass --tls-ca FILE for a TLS server",
		}
	}
	if !ok {
		return fmt.Errorf("import stopped: %w (%s; rerunning the import is safe)", err, stored)
	}
	e := explainRPC(err, "import "+r.kind, r.addr).(*hintedError)
	e.msg = fmt.Sprintf("import stopped by the server: %s: %s (%s; rerunning the import is safe)", st.Code(), statusText(st), stored)
	if st.Code() == codes.PermissionDenied {
		e.hint = "import persons and institutions needs a token with the admin role, import members one with clearing or admin"
	}
	return e
}

// unreachable reports whether st is the client's own Unavailable: no
// connection to a server, rather than a server answering UNAVAILABLE.
func unreachable(st *status.Status) bool {
	if st.Code() != codes.Unavailable {
		return false
	}
	m := st.Message()
	for _, s := range []string{"connection error", "name resolver", "produced zero addresses", "dial", "connect:", "transport:"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// statusText renders a status for a person: its BadRequest violations as
// "field: description", else its message without the "invalid argument: "
// prefix, so rejections read the same whichever call made them.
func statusText(st *status.Status) string {
	var parts []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				parts = append(parts, v.GetField()+": "+v.GetDescription())
			}
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	return reasonText(st.Message())
}

// reasonText is a rejection reason without the "invalid argument: " prefix
// of a validation error.
func reasonText(s string) string {
	return strings.TrimPrefix(s, "invalid argument: ")
}

func dial(f connFlags) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if f.tlsCA != "" {
		pem, err := os.ReadFile(f.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", f.tlsCA)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	conn, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", f.addr, err)
	}
	return conn, nil
}

// importReport counts rows, draws the progress bar and keeps the rejections.
type importReport struct {
	kind     string
	total    int
	done     int
	imported int
	rejected []rejection
	unlisted int // rows the server rejected without listing them
	// addr is the server's address, for errors.
	addr string
	// duplicates are the ids on more than one line, idColumn their column.
	duplicates map[string][]int
	idColumn   string
	bar        *progress
	start      time.Time
}

func newImportReport(kind string, total int, stderr io.Writer) *importReport {
	return &importReport{kind: kind, total: total, bar: newProgress(stderr), start: time.Now()}
}

// rejection is one row that was not imported.
type rejection struct {
	line   int
	id     string
	reason string
}

func (r *importReport) reject(line int, id, reason string) {
	r.rejected = append(r.rejected, rejection{line, id, reason})
}

// tick redraws the progress bar (at most ten times a second on a
// terminal, a plain line every few seconds elsewhere).
func (r *importReport) tick(force bool) {
	r.bar.update(force, "importing "+r.kind, int64(r.done), int64(r.total), "rows", fmt.Sprintf(", %d rejected", r.rejections()))
}

func (r *importReport) finish(stdout io.Writer) {
	r.tick(true)
	r.bar.end()
	fmt.Fprintf(stdout, "%s: %d rows read, %d imported, %d rejected in %s\n",
		r.kind, r.done, r.imported, r.rejections(), time.Since(r.start).Round(time.Millisecond))
	sort.SliceStable(r.rejected, func(i, j int) bool { return r.rejected[i].line < r.rejected[j].line })
	for _, x := range r.rejected {
		fmt.Fprintf(stdout, "  rejected line %d (%s): %s\n", x.line, x.id, x.reason)
	}
	if r.unlisted > 0 {
		fmt.Fprintf(stdout, "  and %d more rejected rows the server did not list (it lists %d a call): fix the rows above and rerun\n",
			r.unlisted, api.MaxImportRejections)
	}
}

// rejections counts the rejected rows, listed or not.
func (r *importReport) rejections() int { return len(r.rejected) + r.unlisted }

// readHeader checks the CSV header against the expected columns.
func readHeader(rd *csv.Reader, want []string) error {
	_, err := readHeaderColumns(rd, want, 0)
	return err
}

// readHeaderColumns checks the CSV header against the expected columns,
// of which the last optional may be left out, and returns how many
// columns the file has.
func readHeaderColumns(rd *csv.Reader, want []string, optional int) (int, error) {
	head, err := rd.Read()
	if err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	got := strings.Join(head, ",")
	for n := len(want); n >= len(want)-optional; n-- {
		if got == strings.Join(want[:n], ",") {
			return n, nil
		}
	}
	msg := fmt.Sprintf("the header is %q; it must be %q", got, strings.Join(want, ","))
	if optional > 0 {
		msg += fmt.Sprintf(" (%s may be left out)", strings.Join(want[len(want)-optional:], ","))
	}
	return 0, errors.New(msg)
}

// importPersons sends the file in ImportPersons calls of at most perCall
// persons, each stored atomically by the server.
func importPersons(ctx context.Context, client pb.RegistryServiceClient, rd *csv.Reader, rep *importReport, perCall int) error {
	columns, err := readHeaderColumns(rd, personColumns, optionalColumns["persons"])
	if err != nil {
		return err
	}
	return importInCalls(rd, rep, perCall, func() (bulkCall, error) {
		ctx, cancel := context.WithCancel(ctx)
		stream, err := client.ImportPersons(ctx)
		if err != nil {
			cancel()
			return nil, err
		}
		return &personsCall{stream: stream, cancel: cancel, columns: columns}, nil
	})
}

// bulkCall is one client-streaming call of a bulk import: rows go in with
// add, and finish closes the stream and reads the server's answer.
type bulkCall interface {
	// add converts a CSV row and sends it. It returns a rowError when the
	// row itself is wrong (nothing was sent), another error when the
	// stream broke.
	add(rec []string) error
	// finish ends the call: imported and rejected counts and the
	// rejections the server lists, by index in the stream.
	finish() (callAnswer, error)
}

// rowError is a CSV row that cannot be sent, and why.
type rowError struct{ err error }

func (e rowError) Error() string { return e.err.Error() }
func (e rowError) Unwrap() error { return e.err }

// callAnswer is what a bulk call answers.
type callAnswer struct {
	imported, rejected int
	listed             []indexedRejection
}

// indexedRejection is a rejection the server lists by its 0-based index
// in the call's stream.
type indexedRejection struct {
	index      int
	id, reason string
}

// importInCalls sends the CSV rows to calls made by open, at most perCall
// rows a call (each call is stored atomically by the server), and maps
// the server's rejections back to CSV line numbers.
func importInCalls(rd *csv.Reader, rep *importReport, perCall int, open func() (bulkCall, error)) error {
	for call := 1; ; call++ {
		before := rep.done
		eof, err := importOneCall(rd, rep, perCall, open)
		if err != nil {
			stored := "nothing was stored"
			if call > 1 {
				stored = fmt.Sprintf("the good rows of the first %d were stored, none after", before)
			}
			return rep.stopped(err, stored)
		}
		if eof {
			return nil
		}
	}
}

// importOneCall sends rows to one call until the file ends (eof) or limit
// rows are sent.
func importOneCall(rd *csv.Reader, rep *importReport, limit int, open func() (bulkCall, error)) (eof bool, err error) {
	call, err := open()
	if err != nil {
		return false, err
	}
	var lines []int // stream index → CSV line
	for len(lines) < limit {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			eof = true
			break
		}
		rep.done++
		if err != nil {
			rep.reject(csvErrLine(err), "?", err.Error())
			continue
		}
		line, _ := rd.FieldPos(0)
		if rep.duplicate(line, field(rec, 0)) {
			continue
		}
		if err := call.add(rec); err != nil {
			var re rowError
			if errors.As(err, &re) {
				rep.reject(line, field(rec, 0), re.Error())
				continue
			}
			break // the server's error comes with finish
		}
		lines = append(lines, line)
		rep.tick(false)
	}
	ans, err := call.finish()
	if err != nil {
		return false, err
	}
	rep.imported += ans.imported
	for _, r := range ans.listed {
		line := -1
		if r.index >= 0 && r.index < len(lines) {
			line = lines[r.index]
		}
		rep.reject(line, r.id, reasonText(r.reason))
	}
	rep.unlisted += ans.rejected - len(ans.listed)
	return eof, nil
}

// personsCall is one ImportPersons call of a file with columns columns.
type personsCall struct {
	stream  grpc.ClientStreamingClient[pb.ImportPersonsRequest, pb.ImportPersonsResponse]
	cancel  context.CancelFunc
	columns int
}

func (c *personsCall) add(rec []string) error {
	p, err := personFromCSV(rec, c.columns)
	if err != nil {
		return rowError{err}
	}
	return c.stream.Send(&pb.ImportPersonsRequest{Person: p})
}

func (c *personsCall) finish() (callAnswer, error) {
	defer c.cancel()
	resp, err := c.stream.CloseAndRecv()
	if err != nil {
		return callAnswer{}, err
	}
	ans := callAnswer{imported: int(resp.GetImported()), rejected: int(resp.GetRejected())}
	for _, r := range resp.GetRejections() {
		ans.listed = append(ans.listed, indexedRejection{int(r.GetIndex()), r.GetPersonId(), r.GetReason()})
	}
	return ans, nil
}

func importInstitutions(ctx context.Context, client pb.RegistryServiceClient, rd *csv.Reader, rep *importReport) error {
	if err := readHeader(rd, institutionColumns); err != nil {
		return err
	}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		rep.done++
		if err != nil {
			rep.reject(csvErrLine(err), "?", err.Error())
			continue
		}
		line, _ := rd.FieldPos(0)
		if rep.duplicate(line, field(rec, 0)) {
			continue
		}
		in, err := institutionFromCSV(rec)
		if err != nil {
			rep.reject(line, field(rec, 0), err.Error())
			continue
		}
		_, err = client.PutInstitution(ctx, &pb.PutInstitutionRequest{Institution: in})
		st, _ := status.FromError(err)
		switch st.Code() {
		case codes.OK:
			rep.imported++
		case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.NotFound, codes.OutOfRange:
			rep.reject(line, field(rec, 0), statusText(st))
		default:
			stored := "nothing was stored"
			if rep.imported > 0 {
				stored = fmt.Sprintf("the %d good rows before line %d were stored", rep.imported, line)
			}
			return rep.stopped(err, stored)
		}
		rep.tick(false)
	}
}

func field(rec []string, i int) string {
	if i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// enumValue reads a short enum name ("EMPLOYEE") or the full one ("SCHEME_EMPLOYEE").
func enumValue(column, prefix, s string, values map[string]int32) (int32, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	if v, ok := values[prefix+s]; ok {
		return v, nil
	}
	if v, ok := values[s]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%s %q is not one of the %s values", column, s, strings.TrimSuffix(prefix, "_"))
}

// personFromCSV reads a row of a persons file whose header has columns
// columns (personColumns, or all but identities).
func personFromCSV(rec []string, columns int) (*pb.Person, error) {
	if len(rec) != columns {
		return nil, fmt.Errorf("has %d fields; want %d, as the header", len(rec), columns)
	}
	scheme, err := enumValue("scheme", "SCHEME_", rec[3], pb.Scheme_value)
	if err != nil {
		return nil, err
	}
	emp, err := enumValue("employment", "EMPLOYMENT_", rec[4], pb.Employment_value)
	if err != nil {
		return nil, err
	}
	cat, err := enumValue("category", "PERSON_CATEGORY_", rec[5], pb.PersonCategory_value)
	if err != nil {
		return nil, err
	}
	years := 0
	if s := strings.TrimSpace(rec[6]); s != "" {
		if years, err = strconv.Atoi(s); err != nil {
			return nil, fmt.Errorf("contribution_years %q is not a whole number", s)
		}
	}
	identities, err := identitiesFromCSV(field(rec, 8))
	if err != nil {
		return nil, err
	}
	return &pb.Person{
		PersonId: field(rec, 0), Name: field(rec, 1), Region: field(rec, 2),
		Scheme: pb.Scheme(scheme), Employment: pb.Employment(emp), Category: pb.PersonCategory(cat),
		ContributionYears: int32(years), AccountBalance: field(rec, 7), Identities: identities,
	}, nil
}

func institutionFromCSV(rec []string) (*pb.Institution, error) {
	if len(rec) != len(institutionColumns) {
		return nil, fmt.Errorf("has %d fields; want %d", len(rec), len(institutionColumns))
	}
	level, err := strconv.Atoi(field(rec, 3))
	if err != nil {
		return nil, fmt.Errorf("level %q is not 1, 2 or 3", field(rec, 3))
	}
	in := &pb.Institution{InstitutionId: field(rec, 0), Name: field(rec, 1), Region: field(rec, 2), Level: int32(level)}
	for _, b := range strings.Split(field(rec, 4), ";") {
		if strings.TrimSpace(b) == "" {
			continue
		}
		y, amount, ok := strings.Cut(b, ":")
		year, err := strconv.Atoi(strings.TrimSpace(y))
		if !ok || err != nil {
			return nil, fmt.Errorf("budget %q is not YEAR:AMOUNT", b)
		}
		in.Budgets = append(in.Budgets, &pb.Budget{Year: int32(year), Amount: strings.TrimSpace(amount)})
	}
	return in, nil
}

// csvErrLine is the line of a CSV parse error (-1 when unknown).
func csvErrLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Line
	}
	return -1
}
