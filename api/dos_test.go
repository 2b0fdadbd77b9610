package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// payloadCounter counts the messages the server receives and their bytes
// (stats.InPayload: a message read off the wire).
type payloadCounter struct{ msgs, bytes atomic.Int64 }

func (c *payloadCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (c *payloadCounter) HandleRPC(_ context.Context, s stats.RPCStats) {
	if p, ok := s.(*stats.InPayload); ok {
		c.msgs.Add(1)
		c.bytes.Add(int64(p.WireLength))
	}
}
func (c *payloadCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (c *payloadCounter) HandleConn(context.Context, stats.ConnStats) {}

// startLimited serves st with the given tokens (nil: open mode) and
// limits on 127.0.0.1 and returns the address and a connection.
func startLimited(t *testing.T, st store.Store, roles map[string]string, lim Limits, opts ...grpc.ServerOption) (string, *grpc.ClientConn) {
	t.Helper()
	var tokens *Tokens
	if roles != nil {
		var err error
		if tokens, err = NewTokens(roles); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := NewServer(Config{Store: st, Tokens: tokens, Log: discard, Limits: lim, ServerOptions: opts})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20), grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return lis.Addr().String(), conn
}

var dosRoles = map[string]string{adminToken: "admin", institutionToken("QZ-H3"): "institution:QZ-H3"}

// TestTapRefusesBeforeReading: a call without valid credentials ends on
// its headers; the server reads none of its message. Public services stay
// open.
func TestTapRefusesBeforeReading(t *testing.T) {
	var counter payloadCounter
	_, conn := startLimited(t, memstore.New(), dosRoles, Limits{}, grpc.StatsHandler(&counter))
	settlement := pb.NewSettlementServiceClient(conn)
	big := &pb.SettleRequest{RequestId: "R1", InstitutionId: "QZ-H3", PersonId: "E1", Items: make([]*pb.LineItem, 100_000)}
	for i := range big.Items {
		big.Items[i] = &pb.LineItem{Code: "X", Quantity: "1"}
	}
	for name, md := range map[string][]string{
		"no token":     nil,
		"wrong token":  {"authorization", "Bearer not-a-token-0123456789"},
		"basic scheme": {"authorization", "Basic " + adminToken},
		"two headers":  {"authorization", "Bearer " + adminToken, "authorization", "Bearer " + adminToken},
	} {
		// Refused by the tap handle (no deadline) and by the guard (a
		// deadline: see tapAuth).
		for _, deadline := range []bool{false, true} {
			ctx, cancel := context.Background(), func() {}
			if deadline {
				ctx, cancel = as("")
			}
			if md != nil {
				ctx = metadata.AppendToOutgoingContext(ctx, md...)
			}
			_, err := settlement.Settle(ctx, big)
			cancel()
			wantCode(t, err, codes.Unauthenticated)
			if n := counter.msgs.Load(); n != 0 {
				t.Fatalf("%s (deadline %v): the server read %d messages (%d bytes) of a call it refused", name, deadline, n, counter.bytes.Load())
			}
		}
	}
	// With a token the message is read (and refused for its size).
	ctx, cancel := as(institutionToken("QZ-H3"))
	_, err := settlement.Settle(ctx, big)
	cancel()
	wantCode(t, err, codes.ResourceExhausted)
	if counter.msgs.Load() != 1 {
		t.Fatalf("with a token the server read %d messages, want 1", counter.msgs.Load())
	}
	// Health needs no token.
	ctx, cancel = as("")
	defer cancel()
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("health without a token: %v", err)
	}
	refl, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	must(t, err)
	must(t, refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	resp, err := refl.Recv()
	if err != nil || len(resp.GetListServicesResponse().GetService()) < 4 {
		t.Fatalf("reflection without a token: %v %v", resp, err)
	}
}

// TestDecodeLimits: a request over its type's limit of bytes or values is
// RESOURCE_EXHAUSTED before it is decoded, with or without credentials
// needed; a claim a little over the item limit still decodes and is
// INVALID_ARGUMENT naming the items.
func TestDecodeLimits(t *testing.T) {
	_, conn := startLimited(t, memstore.New(), dosRoles, Limits{})
	settlement := pb.NewSettlementServiceClient(conn)
	ctx, cancel := as(adminToken)
	defer cancel()
	claimOfItems := func(n int, item *pb.LineItem) *pb.SettleRequest {
		r := claim("R1", "QZ-H3", "E1", "1")
		r.Items = make([]*pb.LineItem, n)
		for i := range r.Items {
			r.Items[i] = item
		}
		return r
	}
	// 50,000 empty items: 100 KB on the wire, 50,000 messages decoded.
	_, err := settlement.Settle(ctx, claimOfItems(50_000, &pb.LineItem{}))
	wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(err.Error(), "values") {
		t.Errorf("50,000 empty items: %v", err)
	}
	_, err = settlement.Settle(ctx, claimOfItems(engine.MaxItems+1, &pb.LineItem{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: "1", Amount: "1.00"}))
	wantCode(t, err, codes.InvalidArgument)
	if !strings.Contains(err.Error(), "items") {
		t.Errorf("a claim of %d items: %v", engine.MaxItems+1, err)
	}
	long := claim("R1", "QZ-H3", "E1", "1")
	long.Items[0].Name = strings.Repeat("名", 2<<20) // 6 MiB
	_, err = settlement.Settle(ctx, long)
	wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(err.Error(), "bytes") {
		t.Errorf("a 6 MiB name: %v", err)
	}
	// The public services have the default limit (1 MiB).
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: strings.Repeat("x", 2<<20)})
	wantCode(t, err, codes.ResourceExhausted)
	// One person of an import: 64 KiB.
	stream, err := pb.NewRegistryServiceClient(conn).ImportPersons(ctx)
	must(t, err)
	_ = stream.Send(&pb.ImportPersonsRequest{Person: &pb.Person{PersonId: "P1", Name: strings.Repeat("x", 100<<10)}})
	_, err = stream.CloseAndRecv()
	wantCode(t, err, codes.ResourceExhausted)
}

// TestCountValues counts the values of a message the way checkMessage does.
func TestCountValues(t *testing.T) {
	r := &pb.SettleRequest{RequestId: "R1", Items: []*pb.LineItem{
		{Code: "A", Name: "a", Quantity: "1", UnitPrice: "1", Amount: "1.00"},
		{Code: "B"},
		{},
	}}
	b, err := proto.Marshal(r)
	must(t, err)
	n := 0
	// request_id; three items (1 + 5, 1 + 1, 1).
	if !countValues(b, r.ProtoReflect().Descriptor(), 0, &n, 1000) || n != 1+6+2+1 {
		t.Fatalf("counted %d values, want 10", n)
	}
	n = 0
	if countValues(b, r.ProtoReflect().Descriptor(), 0, &n, 5) {
		t.Fatal("a limit of 5 values passed 10")
	}
	if err := checkMessage(b[:len(b)-3], r); err != nil {
		t.Fatalf("truncated bytes are for proto.Unmarshal to refuse: %v", err)
	}
}

// TestLargestPolicyFits: the largest legitimate message, a policy with a
// catalog of engine.MaxCatalog entries (64-character codes, a price cap on
// each, a self-pay ratio on half), is accepted.
func TestLargestPolicyFits(t *testing.T) {
	if testing.Short() {
		t.Skip("a policy of 200,000 catalog entries")
	}
	_, conn := startLimited(t, memstore.New(), dosRoles, Limits{})
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	must(t, err)
	var pol pb.Policy
	unmarshalInto(t, raw, &pol)
	pol.Catalog = make([]*pb.CatalogEntry, engine.MaxCatalog)
	for i := range pol.Catalog {
		e := &pb.CatalogEntry{Code: fmt.Sprintf("XA01ABD075A00201010%045d", i), Category: pb.ItemCategory_ITEM_CATEGORY_A, PriceCap: "99999.9999"}
		if i%2 == 1 {
			e.Category, e.SelfPayRatio = pb.ItemCategory_ITEM_CATEGORY_B, "0.1000"
		}
		pol.Catalog[i] = e
	}
	size := proto.Size(&pb.PutPolicyRequest{Policy: &pol})
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+adminToken), 2*time.Minute)
	defer cancel()
	if _, err := pb.NewPolicyServiceClient(conn).PutPolicy(ctx, &pb.PutPolicyRequest{Policy: &pol}); err != nil {
		t.Fatalf("a policy of %d catalog entries (%d bytes): %v", len(pol.Catalog), size, err)
	}
	t.Logf("a policy of %d catalog entries: %d bytes (limit %d)", len(pol.Catalog), size, MaxMessageBytes)
}

// blockingStore holds GetPerson until release is closed.
type blockingStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) GetPerson(ctx context.Context, id string) (engine.Person, error) {
	s.entered <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
		return engine.Person{}, ctx.Err()
	}
	return s.Store.GetPerson(ctx, id)
}

// TestOverloadSheds: with every place of a service taken, 200 more calls
// are answered UNAVAILABLE within the queue wait instead of queueing; one
// caller holds at most half the places, so it cannot crowd out the others;
// the other services still answer, and the service recovers when its calls
// end.
func TestOverloadSheds(t *testing.T) {
	const places, extra = 4, 200
	st := &blockingStore{Store: memstore.New(), entered: make(chan struct{}, places+extra), release: make(chan struct{})}
	roles := map[string]string{adminToken: "admin", institutionToken("QZ-H3"): "institution:QZ-H3", clearingToken: "clearing"}
	_, conn := startLimited(t, st, roles, Limits{MaxInFlight: places, QueueWait: 50 * time.Millisecond})
	registry := pb.NewRegistryServiceClient(conn)
	getPerson := func(token string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token), timeout)
		defer cancel()
		_, err := registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "E1"})
		return err
	}
	entered := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-st.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the first calls never reached the store")
			}
		}
	}
	held := make(chan error, places)
	// The admin takes its half of the places; a third call of its own is
	// refused while the service still has room for others.
	for range places / 2 {
		go func() { held <- getPerson(adminToken, 30*time.Second) }()
	}
	entered(places / 2)
	if err := getPerson(adminToken, 2*time.Second); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "these credentials") {
		t.Fatalf("a caller over its half: %v, want UNAVAILABLE for these credentials", err)
	}
	for range places / 2 {
		go func() { held <- getPerson(institutionToken("QZ-H3"), 30*time.Second) }()
	}
	entered(places / 2)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	shed := 0
	for i := range extra {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := getPerson([]string{adminToken, institutionToken("QZ-H3"), clearingToken}[i%3], 2*time.Second)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			slowest = max(slowest, d)
			if status.Code(err) == codes.Unavailable {
				shed++
			} else {
				t.Errorf("an extra call: %v after %s, want UNAVAILABLE", err, d)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d calls over %d places: %d shed, the slowest answer after %s", extra, places, shed, slowest)
	if slowest > time.Second {
		t.Errorf("shedding took up to %s", slowest)
	}
	// Another service has its own places.
	ctx, cancel := as(adminToken)
	defer cancel()
	if _, err := pb.NewPolicyServiceClient(conn).ListPolicies(ctx, &pb.ListPoliciesRequest{}); err != nil {
		t.Errorf("PolicyService while RegistryService is full: %v", err)
	}
	close(st.release)
	for range places {
		if err := <-held; status.Code(err) != codes.NotFound {
			t.Errorf("a held call: %v, want NOT_FOUND", err)
		}
	}
	if err := getPerson(clearingToken, 5*time.Second); status.Code(err) != codes.NotFound {
		t.Errorf("after the load: %v, want NOT_FOUND", err)
	}
}

// TestImportsBounded: with MaxImports imports running, another
// ImportPersons or EnrollMembers is RESOURCE_EXHAUSTED at once; when one
// ends, the next runs.
func TestImportsBounded(t *testing.T) {
	_, conn := startLimited(t, memstore.New(), dosRoles, Limits{MaxImports: 1, QueueWait: 50 * time.Millisecond})
	registry := pb.NewRegistryServiceClient(conn)
	ctx, cancel := as(adminToken)
	defer cancel()
	person := func(id string) *pb.ImportPersonsRequest {
		return &pb.ImportPersonsRequest{Person: &pb.Person{PersonId: id, Name: id, Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
			Employment: pb.Employment_EMPLOYMENT_EMPLOYED, ContributionYears: 8, AccountBalance: "0.00"}}
	}
	first, err := registry.ImportPersons(ctx)
	must(t, err)
	must(t, first.Send(person("P1")))
	time.Sleep(200 * time.Millisecond) // the server takes the import's place

	start := time.Now()
	second, err := registry.ImportPersons(ctx)
	must(t, err)
	_ = second.Send(person("P2"))
	_, err = second.CloseAndRecv()
	wantCode(t, err, codes.ResourceExhausted)
	enroll, err := pb.NewClearingServiceClient(conn).EnrollMembers(ctx)
	must(t, err)
	_ = enroll.Send(&pb.EnrollMembersRequest{ContractId: "C1", PersonId: "P1"})
	_, err = enroll.CloseAndRecv()
	wantCode(t, err, codes.ResourceExhausted)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusals took %s", d)
	}

	resp, err := first.CloseAndRecv()
	if err != nil || resp.GetImported() != 1 {
		t.Fatalf("the first import: %v %v", resp, err)
	}
	third, err := registry.ImportPersons(ctx)
	must(t, err)
	must(t, third.Send(person("P3")))
	if resp, err := third.CloseAndRecv(); err != nil || resp.GetImported() != 1 {
		t.Fatalf("an import after the first ended: %v %v", resp, err)
	}
}

// TestHandshakeTimeout: a connection that never starts HTTP/2 is closed
// after HandshakeTimeout.
func TestHandshakeTimeout(t *testing.T) {
	addr, _ := startLimited(t, memstore.New(), nil, Limits{HandshakeTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	must(t, err)
	defer c.Close()
	start := time.Now()
	must(t, c.SetReadDeadline(time.Now().Add(3*time.Second)))
	_, err = io.Copy(io.Discard, c) // the server's SETTINGS, then EOF when it closes
	if d := time.Since(start); err != nil || d > 2*time.Second {
		t.Fatalf("an idle connection was closed after %s (%v), want about 200ms", d, err)
	}
}

// h2conn is a hand-driven HTTP/2 client: it sends a call's message as
// slowly as a test wants.
type h2conn struct {
	t      *testing.T
	c      net.Conn
	fr     *http2.Framer
	enc    *hpack.Encoder
	encBuf bytes.Buffer
	dec    *hpack.Decoder
	// settings are the server's initial SETTINGS.
	settings map[http2.SettingID]uint32
}

func dialH2(t *testing.T, addr string) *h2conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	must(t, err)
	t.Cleanup(func() { c.Close() })
	h := &h2conn{t: t, c: c, fr: http2.NewFramer(c, c), settings: map[http2.SettingID]uint32{}}
	h.enc = hpack.NewEncoder(&h.encBuf)
	h.dec = hpack.NewDecoder(4096, nil)
	_, err = io.WriteString(c, http2.ClientPreface)
	must(t, err)
	must(t, h.fr.WriteSettings())
	must(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		f, err := h.fr.ReadFrame()
		must(t, err)
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			must(t, s.ForeachSetting(func(s http2.Setting) error { h.settings[s.ID] = s.Val; return nil }))
			must(t, h.fr.WriteSettingsAck())
			return h
		}
	}
}

// start opens a call on stream id and sends the 5-byte prefix of a message
// of declared bytes followed by sent bytes of it.
func (h *h2conn) start(id uint32, path, token string, declared, sent int) {
	h.encBuf.Reset()
	for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", path}, {":authority", "medsettle"},
		{"content-type", "application/grpc"}, {"te", "trailers"}} {
		must(h.t, h.enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]}))
	}
	if token != "" {
		must(h.t, h.enc.WriteField(hpack.HeaderField{Name: "authorization", Value: "Bearer " + token}))
	}
	must(h.t, h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.encBuf.Bytes(), EndHeaders: true}))
	msg := make([]byte, 5+sent)
	msg[1], msg[2], msg[3], msg[4] = byte(declared>>24), byte(declared>>16), byte(declared>>8), byte(declared)
	must(h.t, h.fr.WriteData(id, false, msg))
}

// status waits for the trailers of stream id and returns its grpc-status.
func (h *h2conn) status(id uint32, within time.Duration) (codes.Code, error) {
	must(h.t, h.c.SetReadDeadline(time.Now().Add(within)))
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return 0, err
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			if f.StreamID != id {
				continue
			}
			fields, err := h.dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				return 0, err
			}
			for _, hf := range fields {
				if hf.Name == "grpc-status" {
					var c codes.Code
					_, err := fmt.Sscan(hf.Value, (*uint32)(&c))
					return c, err
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return 0, fmt.Errorf("stream reset: %v", f.ErrCode)
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = h.fr.WritePing(true, f.Data)
			}
		}
	}
}

// TestReadTimeoutAndPublicReads: a message that does not arrive within
// ReadTimeout ends its call with DEADLINE_EXCEEDED; while a health message
// is being received, the health service's one place is taken (UNAVAILABLE
// after the queue wait) but reflection has its own; the connection
// advertises MaxStreams.
func TestReadTimeoutAndPublicReads(t *testing.T) {
	addr, conn := startLimited(t, memstore.New(), dosRoles, Limits{ReadTimeout: 500 * time.Millisecond, MaxPublicReads: 1, QueueWait: 50 * time.Millisecond})
	h := dialH2(t, addr)
	if got := h.settings[http2.SettingMaxConcurrentStreams]; got != DefaultMaxStreams {
		t.Errorf("MAX_CONCURRENT_STREAMS %d, want %d", got, DefaultMaxStreams)
	}
	start := time.Now()
	h.start(1, "/grpc.health.v1.Health/Check", "", 1000, 10)
	time.Sleep(100 * time.Millisecond)

	ctx, cancel := as("")
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	wantCode(t, err, codes.Unavailable)
	refl, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	must(t, err)
	must(t, refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	if _, err := refl.Recv(); err != nil {
		t.Errorf("reflection while health receives: %v", err)
	}
	_ = refl.CloseSend()

	code, err := h.status(1, 5*time.Second)
	if err != nil || code != codes.DeadlineExceeded {
		t.Fatalf("a trickled health message: %v %v after %s, want DEADLINE_EXCEEDED", code, err, time.Since(start))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the trickled message was given up after %s", d)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health after the trickled call ended: %v", err)
	}
	// With a token, a unary message is timed the same way.
	h.start(3, "/medsettle.v1.RegistryService/GetPerson", adminToken, 1000, 10)
	if code, err := h.status(3, 5*time.Second); err != nil || code != codes.DeadlineExceeded {
		t.Fatalf("a trickled GetPerson: %v %v, want DEADLINE_EXCEEDED", code, err)
	}
}

// TestRefusedCallsDoNotLeak: calls refused for their credentials leave
// nothing behind, even with a long deadline. (gRPC-Go keeps the deadline
// timer of a call its tap handle refuses, and with it the call's context,
// until the deadline passes: tokenless calls asking for an hour grew the
// server by 1.6 KB each.)
func TestRefusedCallsDoNotLeak(t *testing.T) {
	_, conn := startLimited(t, memstore.New(), dosRoles, Limits{})
	registry := pb.NewRegistryServiceClient(conn)
	refuse := func(n int) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
					_, err := registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "E1"})
					cancel()
					if status.Code(err) != codes.Unauthenticated {
						t.Errorf("a call without a token: %v", err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	inUse := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	refuse(1000) // warm up
	// Goroutines of earlier tests (servers draining, pools closing) can
	// hold memory for a moment while one measurement runs: a leak grows the
	// heap in every round, so the test fails only when all three rounds
	// grew it.
	const calls = 10_000
	var grown int64
	for round := range 3 {
		before := inUse()
		refuse(calls)
		grown = int64(inUse()) - int64(before)
		t.Logf("round %d: %d refused calls with an hour's deadline: the heap grew by %d bytes (%.0f a call)", round, calls, grown, float64(grown)/calls)
		if grown <= 200*calls {
			return
		}
	}
	t.Errorf("the heap grew by %d bytes over %d refused calls, in each of three rounds", grown, calls)
}
