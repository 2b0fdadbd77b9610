// Command client is a minimal HIS-side client of medsettle
// (docs/INTEGRATION.md): it pre-settles one bill, then settles it,
// retrying UNAVAILABLE and DEADLINE_EXCEEDED with the same request id and
// exponential backoff, and prints the breakdown under the national
// interface's names.
//
//	go run ./examples/client --addr 127.0.0.1:50051                     # plaintext, open-mode demo server
//	go run ./examples/client --addr host:50051 --ca ca.pem --token T    # TLS and a bearer token
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// Retry schedule: the first retry waits initialBackoff, each next one twice
// as long, at most maxBackoff; after maxAttempts the last error is returned.
// Each attempt has callTimeout to answer.
var (
	initialBackoff = 200 * time.Millisecond
	maxBackoff     = 5 * time.Second
	maxAttempts    = 6
	callTimeout    = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run parses args, connects, pre-settles and settles the example bill and
// prints the result to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:50051", "medsettle gRPC address")
	token := fs.String("token", "", "bearer token (empty: none, for an open-mode server)")
	caFile := fs.String("ca", "", "PEM file of the CA that signed the server's certificate (empty: plaintext)")
	requestID := fs.String("request-id", "HIS-EXAMPLE-0001", "HIS message id, the idempotency key; a new one for every new bill")
	institution := fs.String("institution", "QZ-H3", "institution id")
	person := fs.String("person", "E1", "person id")
	date := fs.String("settle-date", "2026-02-10", "settle date YYYY-MM-DD")
	if err := fs.Parse(args); err != nil {
		return err
	}

	creds := insecure.NewCredentials()
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca %s: no PEM certificate found; give the CA certificate in PEM", *caFile)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if *token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: *token, secure: *caFile != ""}))
	}
	conn, err := grpc.NewClient(*addr, opts...)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", *addr, err)
	}
	defer conn.Close()
	client := pb.NewSettlementServiceClient(conn)

	req := &pb.SettleRequest{
		RequestId:     *requestID,
		InstitutionId: *institution,
		PersonId:      *person,
		VisitType:     pb.VisitType_VISIT_TYPE_INPATIENT,
		SettleDate:    *date,
		Items: []*pb.LineItem{
			{Code: "A-BED", Name: "bed", Quantity: "10", UnitPrice: "80", Amount: "800.00"},
			{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: "7200", Amount: "7200.00"},
		},
	}
	pre, err := withRetry(ctx, func(ctx context.Context) (*pb.SettleResponse, error) { return client.PreSettle(ctx, req) })
	if err != nil {
		return fmt.Errorf("PreSettle %s: %w", req.RequestId, err)
	}
	fmt.Fprintf(stdout, "preview: fund pays %s, patient pays %s\n", pre.Settlement.Breakdown.FundTotal, pre.Settlement.Breakdown.PersonalTotal)
	// The same req (same request id, same body) on every attempt: the
	// server settles it at most once and answers a retry with the first
	// settlement.
	res, err := withRetry(ctx, func(ctx context.Context) (*pb.SettleResponse, error) { return client.Settle(ctx, req) })
	if err != nil {
		return fmt.Errorf("Settle %s: %w", req.RequestId, err)
	}
	printSettlement(stdout, res.Settlement)
	return nil
}

// withRetry calls call until it succeeds, fails with a code other than
// UNAVAILABLE or DEADLINE_EXCEEDED, ctx ends or maxAttempts are spent.
func withRetry(ctx context.Context, call func(context.Context) (*pb.SettleResponse, error)) (*pb.SettleResponse, error) {
	wait := initialBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, callTimeout)
		res, err := call(actx)
		cancel()
		if err == nil {
			return res, nil
		}
		if c := status.Code(err); (c != codes.Unavailable && c != codes.DeadlineExceeded) || attempt == maxAttempts {
			return nil, fmt.Errorf("attempt %d: %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, maxBackoff)
	}
}

// printSettlement prints s and its breakdown, each figure with its national
// interface name.
func printSettlement(w io.Writer, s *pb.Settlement) {
	b := s.Breakdown
	fmt.Fprintf(w, "settlement %s (%s, %s, policy %s)\n", s.SettlementId, s.State, s.CrossRegion, s.PolicyVersion)
	for _, f := range []struct{ name, value string }{
		{"medfee_sumamt", b.Total},
		{"fulamt_ownpay_amt", b.OutOfScope},
		{"overlmt_selfpay", b.OverLimit},
		{"preselfpay_amt", b.PreSelfPay},
		{"inscp_scp_amt", b.InScope},
		{"act_pay_dedc", b.Deductible},
		{"hifp_pay", b.BasicFund},
		{"hifmi_pay", b.Catastrophic},
		{"maf_pay", b.MedicalAid},
		{"fund_pay_sumamt", b.FundTotal},
		{"psn_part_amt", b.PersonalTotal},
		{"acct_pay", b.Account},
		{"psn_cash_pay", b.Cash},
	} {
		fmt.Fprintf(w, "  %-18s %12s\n", f.name, f.value)
	}
}

// bearer sends "authorization: Bearer <token>" with every call.
type bearer struct {
	token  string
	secure bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials: a
// token is only sent over TLS, except to a plaintext (loopback) test server.
func (b bearer) RequireTransportSecurity() bool { return b.secure }
