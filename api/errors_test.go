package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// javaHeaderLimit is grpc-java's default maximum header list size, which
// applies to the trailers that carry a status.
const javaHeaderLimit = 8192

// trailerListSize is the HTTP/2 header list size (RFC 7540 §6.5.2: name,
// value and 32 per field) of the trailers-only response grpc-go sends for
// st.
func trailerListSize(t *testing.T, st *status.Status) int {
	t.Helper()
	raw, err := proto.Marshal(st.Proto())
	if err != nil {
		t.Fatal(err)
	}
	fields := [][2]string{
		{":status", "200"},
		{"content-type", "application/grpc"},
		{"grpc-status", fmt.Sprint(int(st.Code()))},
		{"grpc-message", percentEncode(st.Message())},
	}
	if len(st.Proto().GetDetails()) > 0 {
		fields = append(fields, [2]string{"grpc-status-details-bin", base64.RawStdEncoding.EncodeToString(raw)})
	}
	n := 0
	for _, f := range fields {
		n += len(f[0]) + len(f[1]) + 32
	}
	return n
}

// percentEncode is grpc-message's encoding: printable ASCII but '%' as
// is, every other byte as %XX.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= ' ' && c <= '~' && c != '%' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// badItems is a claim of n line items whose amounts do not match
// quantity × unit_price.
func badItems(reqID string, n int) *pb.SettleRequest {
	req := claim(reqID, "QZ-H3", "E1", "100")
	req.Items = nil
	for range n {
		req.Items = append(req.Items, &pb.LineItem{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: "10", Amount: "10.01"})
	}
	return req
}

// TestManyViolationsReachAnEightKiBClient settles claims of 2,000 bad
// items through a client that accepts at most 8 KiB of headers: the answer
// is INVALID_ARGUMENT (not INTERNAL from a refused trailer block), its
// BadRequest lists the first violations, each once, and says how many
// there were.
func TestManyViolationsReachAnEightKiBClient(t *testing.T) {
	ts := demoServer(t)
	conn, err := grpc.NewClient(ts.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithMaxHeaderListSize(javaHeaderLimit))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewSettlementServiceClient(conn)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()

	// Every item's amount is wrong: 2,000 violations.
	mismatched := badItems("many-bad", engine.MaxItems)
	// Every number of every item is unreadable, and every code and name
	// too long: four violations an item, with long descriptions.
	unreadable := badItems("all-bad", engine.MaxItems)
	for _, it := range unreadable.Items {
		it.Code, it.Name = strings.Repeat("码", 100), strings.Repeat("名", 300)
		it.Quantity, it.UnitPrice, it.Amount = "много", "x%x", "1e999"
	}
	for _, tc := range []struct {
		name  string
		req   *pb.SettleRequest
		first string
	}{
		{"mismatched amounts", mismatched, "items[0].amount"},
		{"unreadable items", unreadable, "items[0].quantity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Settle(ctx, tc.req)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("got %v, want INVALID_ARGUMENT", err)
			}
			if size := trailerListSize(t, st); size > javaHeaderLimit*4/5 {
				t.Errorf("trailers of %d bytes leave less than a fifth of %d", size, javaHeaderLimit)
			}
			var br *errdetails.BadRequest
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.BadRequest:
					br = d
				case *errdetails.ErrorInfo:
					info = d
				}
			}
			if br == nil || info == nil {
				t.Fatalf("details %v, want a BadRequest and an ErrorInfo", st.Details())
			}
			vs := br.GetFieldViolations()
			if len(vs) == 0 || len(vs) > MaxListedViolations || vs[0].GetField() != tc.first {
				t.Fatalf("BadRequest lists %d violations, the first %v", len(vs), vs[:min(len(vs), 1)])
			}
			seen := map[string]bool{}
			for _, v := range vs {
				key := v.GetField() + ": " + v.GetDescription()
				if seen[key] {
					t.Errorf("violation %q listed twice", key)
				}
				seen[key] = true
				if !utf8.ValidString(v.GetDescription()) || len(v.GetDescription()) > maxDescriptionBytes {
					t.Errorf("description of %d bytes: %q", len(v.GetDescription()), v.GetDescription())
				}
				if v != vs[0] && strings.Contains(st.Message(), v.GetField()+":") {
					t.Errorf("the message repeats the violation of %s: %q", v.GetField(), st.Message())
				}
			}
			total := info.GetMetadata()["violations"]
			if info.GetReason() != ReasonViolationsTruncated || info.GetDomain() != ErrorDomain ||
				info.GetMetadata()["listed"] != fmt.Sprint(len(vs)) || total == "" || total == fmt.Sprint(len(vs)) {
				t.Errorf("ErrorInfo %v with %d listed", info, len(vs))
			}
			if !strings.HasPrefix(st.Message(), "invalid argument: "+tc.first+": ") ||
				!strings.Contains(st.Message(), fmt.Sprintf("lists %d of %s)", len(vs), total)) {
				t.Errorf("message %q", st.Message())
			}
			t.Logf("%s violations, %d listed, trailers %d bytes", total, len(vs), trailerListSize(t, st))
		})
	}
	// Nothing was settled.
	if got := accumulatorsJSON(t, ts, "E1"); strings.Contains(got, "inScope") {
		t.Errorf("a refused claim settled: %s", got)
	}
}

// TestStatusIsBounded builds the statuses of adversarial errors and checks
// each stays within the limits: message, details and trailers.
func TestStatusIsBounded(t *testing.T) {
	long := strings.Repeat("é%\x01", 2000)
	many := func(n int, field, desc string) error {
		var v engine.Violations
		for i := range n {
			v.Addf(fmt.Sprintf(field, i), "%s", desc)
		}
		return v.Err()
	}
	for _, tc := range []struct {
		name string
		err  error
		code codes.Code
	}{
		{"one short violation", many(1, "request_id%d", "is required"), codes.InvalidArgument},
		{"a huge violation", many(1, long+"%d", long), codes.InvalidArgument},
		{"invalid UTF-8", many(3, "items[%d].name\xff", "is \xfe\xff not UTF-8"), codes.InvalidArgument},
		{"10,000 violations", many(10000, "items[%d].amount", "is 10.01 but round(quantity 1 × unit_price 10) is 10.00"), codes.InvalidArgument},
		{"10,000 huge violations", many(10000, long+"[%d]", long), codes.InvalidArgument},
		{"a long not-found", fmt.Errorf("settlement %q: %w", long, store.ErrNotFound), codes.NotFound},
		{"a long status", status.Error(codes.PermissionDenied, long), codes.PermissionDenied},
		{"a long conflict", fmt.Errorf("%s: %w", long, store.ErrConflict), codes.AlreadyExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := status.Convert(toStatus(context.Background(), discard, "test", tc.err))
			if st.Code() != tc.code {
				t.Fatalf("code %v, want %v", st.Code(), tc.code)
			}
			if n := len(percentEncode(st.Message())); n > MaxStatusMessageBytes {
				t.Errorf("message of %d bytes encoded", n)
			}
			if !utf8.ValidString(st.Message()) {
				t.Errorf("message is not UTF-8: %q", st.Message())
			}
			raw, err := proto.Marshal(st.Proto())
			if err != nil {
				t.Fatalf("the status does not encode: %v", err)
			}
			if tc.code == codes.InvalidArgument {
				if len(raw) > MaxStatusDetailsBytes {
					t.Errorf("status of %d bytes encoded", len(raw))
				}
				if len(st.Details()) == 0 {
					t.Errorf("no details: %v", st.Proto())
				}
				for _, d := range st.Details() {
					if e, ok := d.(error); ok {
						t.Errorf("a detail does not decode: %v", e)
					}
				}
			}
			if size := trailerListSize(t, st); size > 6656 {
				t.Errorf("trailers of %d bytes, more than 6.5 KiB", size)
			}
		})
	}
	// A few short violations are all listed, without ErrorInfo.
	st := status.Convert(toStatus(context.Background(), discard, "test", many(3, "items[%d].amount", "is wrong")))
	if len(st.Details()) != 1 || len(st.Details()[0].(*errdetails.BadRequest).GetFieldViolations()) != 3 {
		t.Errorf("details %v", st.Details())
	}
	if want := "invalid argument: items[0].amount: is wrong (and 2 more; google.rpc.BadRequest lists 3 of 3)"; st.Message() != want {
		t.Errorf("message %q, want %q", st.Message(), want)
	}
}
