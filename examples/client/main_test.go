package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/examples"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// demoServer serves the demo data (what `medsettle serve --demo` loads) on
// the in-memory store at a loopback address, until the test ends.
func demoServer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	files, err := fs.Glob(examples.FS, "policies/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo policies: %v (%d files)", err, len(files))
	}
	for _, name := range files {
		raw, err := examples.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := api.ParsePolicyJSON(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := st.PutPolicy(ctx, p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	raw, err := examples.FS.ReadFile("demo/registry.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Institutions []json.RawMessage `json:"institutions"`
		Persons      []json.RawMessage `json:"persons"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Institutions {
		in, err := api.ParseInstitutionJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutInstitution(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range doc.Persons {
		p, err := api.ParsePersonJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := api.NewServer(api.Config{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return serveOn(t, srv)
}

// serveOn serves srv on a free loopback port until the test ends.
func serveOn(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestRunSettlesTheDemoBill(t *testing.T) {
	addr := demoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"--addr", addr, "--request-id", "HIS-TEST-0001"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	// 0.87 × 4,300 above the 700 deductible plus 0.90 × 3,000 (README.md).
	for _, want := range []string{
		"preview: fund pays 6441.00, patient pays 1559.00\n",
		"(SETTLEMENT_STATE_SETTLED, CROSS_REGION_LOCAL, policy 2026.1)\n",
		"  medfee_sumamt           8000.00\n",
		"  act_pay_dedc             700.00\n",
		"  hifp_pay                6441.00\n",
		"  psn_cash_pay            1559.00\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}

	// A second run with the same request id settles nothing new: the
	// same settlement comes back. (Its preview differs: PreSettle prices
	// the bill as E1's second stay of the year, deductible 500.)
	var again bytes.Buffer
	if err := run(ctx, []string{"--addr", addr, "--request-id", "HIS-TEST-0001"}, &again); err != nil {
		t.Fatalf("second run: %v", err)
	}
	settled := func(s string) string { return s[strings.Index(s, "settlement "):] }
	if settled(again.String()) != settled(got) {
		t.Errorf("a retry with the same request id printed\n%s\nwant\n%s", again.String(), got)
	}
	if !strings.HasPrefix(again.String(), "preview: fund pays 6615.00, patient pays 1385.00\n") {
		t.Errorf("second preview: got\n%s", again.String())
	}
}

// flakySettlement answers Settle with fail, one code after the other, then
// OK, and records the request ids and authorization headers it was sent.
type flakySettlement struct {
	pb.UnimplementedSettlementServiceServer
	fail  []codes.Code
	mu    sync.Mutex
	ids   []string
	auths []string
}

// PreSettle answers a fixed preview.
func (f *flakySettlement) PreSettle(_ context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	return &pb.SettleResponse{Settlement: &pb.Settlement{RequestId: req.RequestId, Breakdown: &pb.Breakdown{FundTotal: "1.00", PersonalTotal: "2.00"}}}, nil
}

// Settle fails with the next code of fail, then settles.
func (f *flakySettlement) Settle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, req.RequestId)
	md, _ := metadata.FromIncomingContext(ctx)
	f.auths = append(f.auths, strings.Join(md.Get("authorization"), ","))
	if n := len(f.ids); n <= len(f.fail) {
		return nil, status.Error(f.fail[n-1], "try again")
	}
	return &pb.SettleResponse{Settlement: &pb.Settlement{
		SettlementId: "ST-1", RequestId: req.RequestId, State: pb.SettlementState_SETTLEMENT_STATE_SETTLED,
		Breakdown: &pb.Breakdown{BasicFund: "42.00"},
	}}, nil
}

// fastBackoff shortens the retry schedule for the test.
func fastBackoff(t *testing.T) {
	old := initialBackoff
	initialBackoff = time.Millisecond
	t.Cleanup(func() { initialBackoff = old })
}

func TestRunRetriesUnavailableWithTheSameRequestID(t *testing.T) {
	fastBackoff(t)
	for _, fail := range [][]codes.Code{
		{codes.Unavailable, codes.Unavailable},
		{codes.DeadlineExceeded, codes.Unavailable},
	} {
		fake := &flakySettlement{fail: fail}
		srv := grpc.NewServer()
		pb.RegisterSettlementServiceServer(srv, fake)
		addr := serveOn(t, srv)

		var out bytes.Buffer
		if err := run(context.Background(), []string{"--addr", addr, "--request-id", "HIS-RETRY-1"}, &out); err != nil {
			t.Fatalf("%v: run: %v", fail, err)
		}
		fake.mu.Lock()
		ids := strings.Join(fake.ids, ",")
		fake.mu.Unlock()
		if ids != "HIS-RETRY-1,HIS-RETRY-1,HIS-RETRY-1" {
			t.Errorf("%v: Settle was sent request ids %q, want HIS-RETRY-1 three times", fail, ids)
		}
		if !strings.Contains(out.String(), "  hifp_pay                  42.00\n") {
			t.Errorf("%v: output lacks the settled basic fund:\n%s", fail, out.String())
		}
	}
}

func TestRunGivesUpAfterMaxAttempts(t *testing.T) {
	fastBackoff(t)
	fake := &flakySettlement{fail: []codes.Code{codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable}}
	srv := grpc.NewServer()
	pb.RegisterSettlementServiceServer(srv, fake)
	addr := serveOn(t, srv)
	err := run(context.Background(), []string{"--addr", addr}, io.Discard)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "attempt 6:") {
		t.Errorf("run returned %v, want UNAVAILABLE after attempt 6", err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.ids) != maxAttempts {
		t.Errorf("Settle was called %d times, want %d", len(fake.ids), maxAttempts)
	}
}

// TestRunTLSWithToken serves TLS with a self-signed certificate: --ca
// trusts it and --token is sent as a bearer token.
func TestRunTLSWithToken(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	fake := &flakySettlement{}
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	pb.RegisterSettlementServiceServer(srv, fake)
	addr := serveOn(t, srv)

	if err := run(context.Background(), []string{"--addr", addr, "--ca", caFile, "--token", "T-QZ-H3"}, io.Discard); err != nil {
		t.Fatalf("run over TLS: %v", err)
	}
	fake.mu.Lock()
	got := strings.Join(fake.auths, ";")
	fake.mu.Unlock()
	if got != "Bearer T-QZ-H3" {
		t.Errorf("authorization sent: %q, want %q", got, "Bearer T-QZ-H3")
	}

	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"--addr", addr, "--ca", bad}, io.Discard)
	if want := "--ca " + bad + ": no PEM certificate found; give the CA certificate in PEM"; err == nil || err.Error() != want {
		t.Errorf("run with a bad --ca: %v, want %q", err, want)
	}
}

// selfSigned returns a PEM certificate for 127.0.0.1, its own CA, and its key.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "medsettle test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// notRetried answers Settle with code every time.
type notRetried struct {
	pb.UnimplementedSettlementServiceServer
	code  codes.Code
	mu    sync.Mutex
	calls int
}

// PreSettle answers an empty preview.
func (n *notRetried) PreSettle(_ context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	return &pb.SettleResponse{Settlement: &pb.Settlement{Breakdown: &pb.Breakdown{}}}, nil
}

// Settle always fails with code.
func (n *notRetried) Settle(context.Context, *pb.SettleRequest) (*pb.SettleResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	return nil, status.Error(n.code, "no")
}

func TestRunDoesNotRetryOtherCodes(t *testing.T) {
	for _, c := range []codes.Code{codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition} {
		fake := &notRetried{code: c}
		srv := grpc.NewServer()
		pb.RegisterSettlementServiceServer(srv, fake)
		addr := serveOn(t, srv)
		err := run(context.Background(), []string{"--addr", addr}, io.Discard)
		if status.Code(err) != c {
			t.Errorf("%v: run returned %v, want that code", c, err)
		}
		fake.mu.Lock()
		if fake.calls != 1 {
			t.Errorf("%v: Settle was called %d times, want 1", c, fake.calls)
		}
		fake.mu.Unlock()
	}
}
