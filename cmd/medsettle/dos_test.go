package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/api"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// The probes start the real binary and attack it. The normal test run
// uses scaled-down counts; MEDSETTLE_PROBE=full (make probe) uses the
// issue's. MEDSETTLE_PROBE_BIN runs them against another build (say, one
// from before the limits) instead of building this one.

func probeFull() bool { return os.Getenv("MEDSETTLE_PROBE") == "full" }

func probeBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("MEDSETTLE_PROBE_BIN"); bin != "" {
		return bin
	}
	return buildBinary(t)
}

// procMemory reads a process's resident memory and its peak (VmRSS and
// VmHWM, in bytes) from /proc.
func procMemory(t *testing.T, pid int) (rss, peak int64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}

const mib = 1 << 20

// TestServeLimitFlags: the limit flags reach api.Limits; nonsense is
// refused.
func TestServeLimitFlags(t *testing.T) {
	f, err := parseServeFlags([]string{"--max-in-flight", "7", "--queue-wait", "20ms", "--max-imports", "3", "--max-reads", "5",
		"--max-public-reads", "1", "--read-timeout", "2s", "--max-streams", "50", "--handshake-timeout", "1s",
		"--keepalive-min-time", "30s", "--max-connection-idle", "1m", "--max-connections", "900"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := api.Limits{MaxInFlight: 7, QueueWait: 20 * time.Millisecond, MaxImports: 3, MaxReads: 5, MaxPublicReads: 1, ReadTimeout: 2 * time.Second,
		MaxStreams: 50, HandshakeTimeout: time.Second, KeepaliveMinTime: 30 * time.Second, MaxConnectionIdle: time.Minute}
	if f.limits.Limits != want || f.limits.maxConnections != 900 {
		t.Errorf("limits %+v, max connections %d", f.limits.Limits, f.limits.maxConnections)
	}
	f, err = parseServeFlags(nil, io.Discard)
	if err != nil || f.limits.Limits != (api.Limits{}).WithDefaults() {
		t.Errorf("default limits %+v (%v), want %+v", f.limits.Limits, err, (api.Limits{}).WithDefaults())
	}
	if f.maxClockSkew != api.DefaultMaxClockSkew {
		t.Errorf("default --max-clock-skew %s, want %s", f.maxClockSkew, api.DefaultMaxClockSkew)
	}
	if f.storeTimeouts != (api.StoreTimeouts{Unary: api.DefaultStoreTimeout, Long: api.DefaultLongStoreTimeout}) {
		t.Errorf("default store timeouts %+v", f.storeTimeouts)
	}
	if f, err := parseServeFlags([]string{"--store-timeout", "2s", "--long-store-timeout", "30m"}, io.Discard); err != nil ||
		f.storeTimeouts != (api.StoreTimeouts{Unary: 2 * time.Second, Long: 30 * time.Minute}) {
		t.Errorf("--store-timeout 2s --long-store-timeout 30m: %+v (%v)", f.storeTimeouts, err)
	}
	if f, err := parseServeFlags([]string{"--max-clock-skew", "2h"}, io.Discard); err != nil || f.maxClockSkew != 2*time.Hour {
		t.Errorf("--max-clock-skew 2h: %s (%v)", f.maxClockSkew, err)
	}
	for _, args := range [][]string{{"--max-in-flight", "0"}, {"--queue-wait", "-1s"}, {"--max-streams", "0"}, {"--max-connections", "-1"}, {"--read-timeout", "0s"},
		{"--max-clock-skew", "0s"}, {"--max-clock-skew", "-1h"}, {"--store-timeout", "0s"}, {"--long-store-timeout", "-1s"}} {
		if _, err := parseServeFlags(args, io.Discard); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	for nofile, want := range map[uint64]int{20000: 19744, 1024: 768, 512: 256, 100: 50} {
		if got := connectionCap(nofile); got != want {
			t.Errorf("connectionCap(%d) = %d, want %d", nofile, got, want)
		}
	}
	soft, hard, err := raiseFileLimit()
	if err != nil || soft != hard {
		t.Errorf("raiseFileLimit: soft %d, hard %d, %v", soft, hard, err)
	}
}

// TestLimitListener: a connection over the cap is closed at once; a
// closed connection frees its place.
func TestLimitListener(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis := newLimitListener(tcp, 2, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer lis.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first, _ := dial(), dial()
	server1, server2 := <-accepted, <-accepted
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("a connection over the cap: read %v, want EOF at once", err)
	}
	if lis.refused.Load() != 1 {
		t.Errorf("refused %d", lis.refused.Load())
	}
	_ = server1.Close()
	_ = server1.Close() // a second Close frees nothing more
	_ = first.Close()
	dial()
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("no place after a connection closed")
	}
	dial()
	fourth := dial()
	_ = fourth.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := fourth.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("over the cap again: read %v, want EOF", err)
	}
	_ = server2
}

// raiseOwnFileLimit lets the test process hold n descriptors, or skips.
func raiseOwnFileLimit(t *testing.T, n int) {
	t.Helper()
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if r.Cur < uint64(n) && r.Max >= uint64(n) {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	if r.Cur < uint64(n) {
		t.Skipf("the descriptor limit is %d; this probe holds %d connections", r.Cur, n)
	}
}

// TestIdleConnectionsProbe holds many TCP connections that never start
// HTTP/2 against a real server: a client connected before keeps being
// answered, the server closes every idle connection within 10 s, and a
// fresh connection is then answered within 1 s. 2,000 connections; the
// issue's 19,900 under MEDSETTLE_PROBE=full.
func TestIdleConnectionsProbe(t *testing.T) {
	n := 2000
	if probeFull() {
		n = 19900
	}
	raiseOwnFileLimit(t, n+64)
	bin := probeBinary(t)
	addr := freeAddr(t)
	p := startProcess(t, bin, "serve", "--demo", "--listen", addr)
	waitListening(t, addr, p)

	// The client connected before.
	before := dialClient(t, addr)
	if s := settleEventually(t, before, loadRequest("IDLE", 0)); s.GetSettlementId() == "" {
		t.Fatal("no settlement")
	}
	stopCalls := make(chan struct{})
	var calls, failures atomic.Int64
	var slowest atomic.Int64
	callsDone := make(chan struct{})
	go func() {
		defer close(callsDone)
		for i := 1; ; i++ {
			select {
			case <-stopCalls:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			_, err := settleOnce(before, loadRequest("IDLE", i), 2*time.Second)
			d := int64(time.Since(start))
			for old := slowest.Load(); d > old && !slowest.CompareAndSwap(old, d); old = slowest.Load() {
			}
			calls.Add(1)
			if err != nil {
				failures.Add(1)
				t.Logf("the earlier client's call %d: %v", i, err)
			}
		}
	}()

	// The idle connections: each records when it was opened and when the
	// server closed it.
	type idle struct {
		opened, closed time.Time
		err            error
	}
	conns := make([]idle, n)
	var wg, dialed sync.WaitGroup
	next := atomic.Int64{}
	dialStart := time.Now()
	for range 32 {
		dialed.Add(1)
		go func() {
			defer dialed.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				conns[i].opened = time.Now()
				if err != nil {
					conns[i].err = err
					conns[i].closed = conns[i].opened
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
					_, err := io.Copy(io.Discard, c) // the server's SETTINGS, then its close
					conns[i].closed = time.Now()
					conns[i].err = err
				}()
			}
		}()
	}
	dialed.Wait()
	dialTime := time.Since(dialStart)
	_, peakDuring := procMemory(t, p.cmd.Process.Pid)
	wg.Wait()
	close(stopCalls)
	<-callsDone

	var longest time.Duration
	atOnce, errs := 0, 0
	for _, c := range conns {
		if c.err != nil {
			errs++
			if errs <= 3 {
				t.Logf("idle connection: %v", c.err)
			}
		}
		d := c.closed.Sub(c.opened)
		longest = max(longest, d)
		if d < time.Second {
			atOnce++
		}
	}
	t.Logf("%d idle connections opened in %s; the longest was closed after %s (%d within 1 s, over the connection cap or closed with their dial; %d errors); the earlier client made %d calls, %d failed, the slowest %s; server peak RSS %.0f MiB",
		n, dialTime.Round(time.Millisecond), longest.Round(time.Millisecond), atOnce, errs, calls.Load(), failures.Load(),
		time.Duration(slowest.Load()).Round(time.Millisecond), float64(peakDuring)/mib)
	if longest > 10*time.Second {
		t.Errorf("an idle connection was kept %s, want at most 10s", longest)
	}
	if failures.Load() > 0 || calls.Load() == 0 {
		t.Errorf("the client connected before: %d of %d calls failed", failures.Load(), calls.Load())
	}

	// A fresh connection is answered within a second.
	start := time.Now()
	fresh, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := pb.NewSettlementServiceClient(fresh).Settle(ctx, loadRequest("IDLE-FRESH", 0), grpc.WaitForReady(true)); err != nil {
		t.Fatalf("a fresh connection after the idle ones: %v after %s", err, time.Since(start))
	}
	t.Logf("a fresh connection answered after %s", time.Since(start).Round(time.Millisecond))
}

// rawMessage is a request already encoded, sent by rawCodec as it is: many
// calls share one buffer.
type rawMessage []byte

// rawCodec sends a rawMessage's bytes and decodes answers with protobuf.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawMessage))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }

// oversizedClaim encodes a SettleRequest of items line items of 14 bytes
// each: 1.5 million make 21 MB, under the 32 MiB receive limit, which
// decoded all at once took the server to about 150 MB a call.
func oversizedClaim(t *testing.T, items int) rawMessage {
	t.Helper()
	head, err := proto.Marshal(loadRequest("BIG", 0))
	if err != nil {
		t.Fatal(err)
	}
	item, err := proto.Marshal(&pb.LineItem{Code: "A", Quantity: "1", UnitPrice: "1", Amount: "1"})
	if err != nil {
		t.Fatal(err)
	}
	num := (&pb.SettleRequest{}).ProtoReflect().Descriptor().Fields().ByName("items").Number()
	b := make([]byte, 0, len(head)+items*(len(item)+2))
	b = append(b, head...)
	for range items {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendBytes(b, item)
	}
	return b
}

// oversizedHealth is a health request of size bytes (a long service name).
func oversizedHealth(size int) rawMessage {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, make([]byte, size))
}

// TestOversizedFloodProbe sends 64 concurrent oversized calls
// (MEDSETTLE_PROBE_CONCURRENT to change) to a real
// server with tokens, while legitimate calls go on: without a token (the
// issue: 32 such calls took the server to 4.6 GB), to health (served
// without a token) and with an institution's token. Each flood must leave
// the server's peak resident memory under its bound and every legitimate
// call answered. Rounds for a second each; MEDSETTLE_PROBE=full floods
// for 15 s each.
func TestOversizedFloodProbe(t *testing.T) {
	// Rounds of 64 calls, over at least this long.
	duration := time.Second
	if probeFull() {
		duration = 15 * time.Second
	}
	concurrent := 64
	if n, err := strconv.Atoi(os.Getenv("MEDSETTLE_PROBE_CONCURRENT")); err == nil && n > 0 {
		concurrent = n // for a run against a build that would not survive 64
	}
	bin := probeBinary(t)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	const admin, hospital, other = "probe-admin-token-0123456789", "probe-hospital-token-0123456789", "probe-other-hospital-token-0123456789"
	if err := os.WriteFile(tokens, []byte(`{"tokens": [{"token": "`+admin+`", "role": "admin"}, {"token": "`+hospital+`", "role": "institution:QZ-H3"}, {"token": "`+other+`", "role": "institution:QZ-H2"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	claim := oversizedClaim(t, 1_500_000)
	health := oversizedHealth(30 * mib)
	// The floods measure what the server keeps, so the server collects
	// as Go does by default (--gc-heap-floor-mib 0): with serve's heap
	// floor it lets up to that much garbage pile up before a collection,
	// which the last flood checks on its own.
	noFloor := []string{"--gc-heap-floor-mib", "0"}
	for _, flood := range []struct {
		name, method, token string
		msg                 rawMessage
		args                []string
		bound               int64
		want                codes.Code
	}{
		{"without a token", "/medsettle.v1.SettlementService/Settle", "", claim, noFloor, 200 * mib, codes.Unauthenticated},
		{"to health", "/grpc.health.v1.Health/Check", "", health, noFloor, 200 * mib, codes.ResourceExhausted},
		// Another hospital's token: its share of the read places (2 of 8)
		// at once.
		{"with a token", "/medsettle.v1.SettlementService/Settle", other, claim, noFloor, 200 * mib, codes.ResourceExhausted},
		// serve as started by default: the floor plus what the server
		// keeps (with a floor of 256 MiB, 282 MiB at the peak).
		{"without a token heap floor", "/medsettle.v1.SettlementService/Settle", "", claim, nil, (defaultHeapFloorMiB + 100) * mib, codes.Unauthenticated},
	} {
		t.Run(strings.ReplaceAll(flood.name, " ", "_"), func(t *testing.T) {
			addr := freeAddr(t)
			p := startProcess(t, bin, append([]string{"serve", "--demo", "--listen", addr, "--tokens", tokens}, flood.args...)...)
			waitListening(t, addr, p)
			_, base := procMemory(t, p.cmd.Process.Pid)

			// The legitimate client (a hospital, a load balancer's health
			// checks) comes from another address than the flood.
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
					d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
					return d.DialContext(ctx, "tcp", addr)
				}))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			legit := pb.NewSettlementServiceClient(conn)
			asHospital := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+hospital)

			stop := make(chan struct{})
			var legitCalls, legitFailed atomic.Int64
			legitDone := make(chan struct{})
			go func() {
				defer close(legitDone)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(asHospital, 10*time.Second)
					_, err := legit.Settle(ctx, loadRequest("FLOOD-"+flood.name[:4], i))
					cancel()
					legitCalls.Add(1)
					if err != nil {
						legitFailed.Add(1)
						t.Logf("a legitimate call: %v", err)
					}
					hctx, hcancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err = healthpb.NewHealthClient(conn).Check(hctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
					hcancel()
					if err != nil {
						legitFailed.Add(1)
						t.Logf("a health check: %v", err)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()

			// The flood: its own connections (a client's connection carries
			// at most 100 calls at once).
			var codesSeen sync.Map
			start := time.Now()
			rounds := 0
			for ; rounds == 0 || time.Since(start) < duration; rounds++ {
				var wg sync.WaitGroup
				for i := range concurrent {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
						if err != nil {
							t.Error(err)
							return
						}
						defer c.Close()
						ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
						defer cancel()
						if flood.token != "" {
							ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+flood.token)
						}
						msg := flood.msg
						err = c.Invoke(ctx, flood.method, &msg, &pb.SettleResponse{}, grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallSendMsgSize(64*mib))
						codesSeen.Store(status.Code(err), true)
						_ = i
					}()
				}
				wg.Wait()
			}
			elapsed := time.Since(start)
			close(stop)
			<-legitDone
			rss, peak := procMemory(t, p.cmd.Process.Pid)
			var seen []string
			codesSeen.Range(func(k, _ any) bool { seen = append(seen, k.(codes.Code).String()); return true })
			t.Logf("%d rounds of %d oversized calls (%.1f MB each) %s: answered %v in %s; server peak RSS %.0f MiB (at start %.0f, now %.0f); %d legitimate calls, %d failed",
				rounds, concurrent, float64(len(flood.msg))/1e6, flood.name, seen, elapsed.Round(time.Millisecond),
				float64(peak)/mib, float64(base)/mib, float64(rss)/mib, legitCalls.Load(), legitFailed.Load())
			// Each is refused, or shed (UNAVAILABLE) while the places of
			// its caller are taken.
			for _, c := range seen {
				if c != flood.want.String() && c != codes.Unavailable.String() {
					t.Errorf("the oversized calls were answered %v, want %v or UNAVAILABLE", seen, flood.want)
				}
			}
			if peak > flood.bound {
				t.Errorf("server peak RSS %.0f MiB, want under %.0f MiB", float64(peak)/mib, float64(flood.bound)/mib)
			}
			if legitFailed.Load() > 0 || legitCalls.Load() == 0 {
				t.Errorf("%d of %d legitimate calls failed", legitFailed.Load(), legitCalls.Load())
			}
		})
	}
}
