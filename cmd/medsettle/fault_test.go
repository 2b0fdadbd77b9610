package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// loadPersons are demo employees of 350500 who settle at QZ-H3 (level 3).
var loadPersons = []string{"E1", "E2", "E3", "E4", "B0", "B1", "B2", "B3", "B4", "C1", "C2", "R1"}

// loadRequest is one inpatient claim of the fault tests; the same index
// always gives the same request, so a retry sends exactly the same body.
func loadRequest(prefix string, i int) *pb.SettleRequest {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	amount := decimal.NewFromInt(int64(200 + r.IntN(9000))).Add(decimal.New(int64(r.IntN(100)), -2))
	return &pb.SettleRequest{
		RequestId: fmt.Sprintf("%s-%05d", prefix, i), InstitutionId: "QZ-H3", PersonId: loadPersons[i%len(loadPersons)],
		VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-05-01", UsePersonalAccount: true,
		Items: []*pb.LineItem{{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: amount.String(), Amount: amount.StringFixed(2)}},
	}
}

func dialClient(t *testing.T, addr string) pb.SettlementServiceClient {
	t.Helper()
	// Reconnect quickly after the server comes back (the default backoff
	// grows to two minutes).
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, MaxDelay: time.Second}, MinConnectTimeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewSettlementServiceClient(conn)
}

// settleOnce sends one request with a deadline.
func settleOnce(c pb.SettlementServiceClient, req *pb.SettleRequest, timeout time.Duration) (*pb.Settlement, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := c.Settle(ctx, req)
	return resp.GetSettlement(), err
}

// settleEventually retries a request until the server answers it.
func settleEventually(t *testing.T, c pb.SettlementServiceClient, req *pb.SettleRequest) *pb.Settlement {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := settleOnce(c, req, 5*time.Second)
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s never answered: %v", req.GetRequestId(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkExactlyOnce checks that every person's accumulators hold exactly
// the settlements acknowledged for them, each once.
func checkExactlyOnce(t *testing.T, c pb.SettlementServiceClient, settled map[string]*pb.Settlement) {
	t.Helper()
	type sums struct {
		count          int
		basic, inScope decimal.Decimal
	}
	want := map[string]*sums{}
	ids := map[string]string{}
	for reqID, s := range settled {
		if other, dup := ids[s.GetSettlementId()]; dup {
			t.Errorf("requests %s and %s share settlement %s", reqID, other, s.GetSettlementId())
		}
		ids[s.GetSettlementId()] = reqID
		w := want[s.GetPersonId()]
		if w == nil {
			w = &sums{}
			want[s.GetPersonId()] = w
		}
		w.count++
		w.basic = w.basic.Add(decimal.RequireFromString(s.GetBreakdown().GetBasicFund()))
		w.inScope = w.inScope.Add(decimal.RequireFromString(s.GetBreakdown().GetInScope()))
	}
	for person, w := range want {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := c.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: person, Year: 2026})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		a := resp.GetAccumulators()
		if int(a.GetInpatientCount()) != w.count || a.GetPoolUsed()["basic"] != w.basic.StringFixed(2) ||
			a.GetVisitTypes()[0].GetInScope() != w.inScope.StringFixed(2) {
			t.Errorf("%s: accumulators %v; acknowledged settlements: %d, basic %s, in scope %s", person, a, w.count, w.basic, w.inScope)
		}
	}
}

// process is a medsettle server run as its own process; it collects the
// process's output.
type process struct {
	syncBuffer
	cmd *exec.Cmd
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "medsettle")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", p.String())
		}
	})
	return p
}

func waitListening(t *testing.T, addr string, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not listen on %s:\n%s", addr, p.String())
}

// TestKill9MidLoad kills the server with SIGKILL while settlements are in
// flight, restarts it and retries every request that got no answer: every
// acknowledged settlement is stored exactly once and none is applied twice.
func TestKill9MidLoad(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	bin := buildBinary(t)
	addr := freeAddr(t)
	args := []string{"serve", "--demo", "--listen", addr, "--database-url", url, "--database-schema", schema}
	first := startProcess(t, bin, args...)
	waitListening(t, addr, first)
	client := dialClient(t, addr)

	const workers, perWorker = 8, 60
	var mu sync.Mutex
	acked := map[string]*pb.Settlement{}
	var unanswered []int
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perWorker {
				i := w*perWorker + k
				s, err := settleOnce(client, loadRequest("k9", i), 3*time.Second)
				mu.Lock()
				if err == nil {
					acked[s.GetRequestId()] = s
				} else {
					unanswered = append(unanswered, i)
				}
				n := len(acked)
				mu.Unlock()
				if n >= 120 {
					once.Do(func() {
						_ = first.cmd.Process.Kill() // SIGKILL: no drain, no cleanup
						close(killed)
					})
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatal("the load finished before the server was killed")
	}
	_ = first.cmd.Wait()
	t.Logf("killed with %d acknowledged and %d unanswered requests", len(acked), len(unanswered))
	if len(unanswered) == 0 {
		t.Fatal("no request was cut off by the kill")
	}

	second := startProcess(t, bin, args...)
	waitListening(t, addr, second)
	// Every acknowledged request replays to the same settlement.
	for reqID, s := range acked {
		var i int
		fmt.Sscanf(reqID, "k9-%d", &i)
		again := settleEventually(t, client, loadRequest("k9", i))
		if again.GetSettlementId() != s.GetSettlementId() || again.GetBreakdown().GetBasicFund() != s.GetBreakdown().GetBasicFund() {
			t.Errorf("%s: acknowledged %s, after the restart %s", reqID, s.GetSettlementId(), again.GetSettlementId())
		}
	}
	// Every unanswered request settles now (or replays what had committed).
	for _, i := range unanswered {
		s := settleEventually(t, client, loadRequest("k9", i))
		acked[s.GetRequestId()] = s
	}
	if len(acked) != workers*perWorker {
		t.Fatalf("%d requests settled, want %d", len(acked), workers*perWorker)
	}
	checkExactlyOnce(t, client, acked)
}

// TestPostgresRestartUnderLoad restarts PostgreSQL while settlements are
// in flight: the server keeps running, calls fail fast with UNAVAILABLE
// rather than hang, and it recovers by itself.
func TestPostgresRestartUnderLoad(t *testing.T) {
	cluster, err := pgtest.Start()
	if err != nil {
		pgtest.Unavailable(t, err)
	}
	defer cluster.Stop()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := pgstore.Open(ctx, cluster.URL, pgstore.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := loadInitialData(ctx, st, true, nil, log); err != nil {
		t.Fatal(err)
	}
	srv, _ := api.NewServer(api.Config{Store: st, Log: log})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	client := dialClient(t, lis.Addr().String())

	type call struct {
		i       int
		code    codes.Code
		took    time.Duration
		started time.Time
		s       *pb.Settlement
		err     error
	}
	var mu sync.Mutex
	var calls []call
	stop := make(chan struct{})
	var wg sync.WaitGroup
	next := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				start := time.Now()
				s, err := settleOnce(client, loadRequest("pr", i), 10*time.Second)
				mu.Lock()
				calls = append(calls, call{i: i, code: status.Code(err), took: time.Since(start), started: start, s: s, err: err})
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	restartAt := time.Now()
	if err := cluster.Restart(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	upAt := time.Now()
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()

	acked := map[string]*pb.Settlement{}
	var unavailable, okAfter int
	var failed []int
	for _, c := range calls {
		switch c.code {
		case codes.OK:
			acked[c.s.GetRequestId()] = c.s
			if c.started.After(upAt.Add(time.Second)) {
				okAfter++
			}
		case codes.Unavailable:
			if unavailable < 3 || c.started.After(upAt) {
				t.Logf("call %d at +%s: %v", c.i, c.started.Sub(restartAt).Round(time.Millisecond), c.err)
			}
			unavailable++
			failed = append(failed, c.i)
		default:
			t.Errorf("call %d ended with %v after %s; want OK or UNAVAILABLE: %v", c.i, c.code, c.took, c.err)
		}
		if c.took > 5*time.Second {
			t.Errorf("call %d took %s: calls must fail fast while the database is down", c.i, c.took)
		}
	}
	t.Logf("%d calls: %d unavailable during the restart at %s, %d succeeded after it", len(calls), unavailable, restartAt.Format(time.TimeOnly), okAfter)
	if unavailable == 0 {
		t.Error("no call saw the database down")
	}
	if okAfter == 0 {
		t.Error("the server did not recover after the database came back")
	}
	for _, i := range failed {
		s := settleEventually(t, client, loadRequest("pr", i))
		acked[s.GetRequestId()] = s
	}
	checkExactlyOnce(t, client, acked)
	_ = os.Getenv
}
