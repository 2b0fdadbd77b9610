package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestServeMetricsEndpoint starts `serve --demo --metrics-listen`, settles
// the README's claim, and scrapes /metrics.
func TestServeMetricsEndpoint(t *testing.T) {
	prev := otel.GetMeterProvider()
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	addr, maddr := freeAddr(t), freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"--demo", "--listen", addr, "--metrics-listen", maddr}, &logs)
	}()
	defer func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop after cancellation")
		}
	}()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewSettlementServiceClient(conn)
	req := &pb.SettleRequest{
		RequestId: "HIS-0001", InstitutionId: "QZ-H3", PersonId: "E1",
		VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-02-10",
		Items: []*pb.LineItem{
			{Code: "A-BED", Name: "bed", Quantity: "10", UnitPrice: "80", Amount: "800.00"},
			{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: "7200", Amount: "7200.00"},
		},
	}
	var resp *pb.SettleResponse
	deadline := time.Now().Add(10 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err = client.Settle(cctx, req, grpc.WaitForReady(true))
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("settle: %v\n%s", err, logs.String())
	}
	if b := resp.GetSettlement().GetBreakdown(); b.GetBasicFund() != "6441.00" || b.GetCash() != "1559.00" {
		t.Fatalf("breakdown %v", b)
	}
	// A retry answers the first settlement: one more OK call, no more fund paid.
	if _, err := client.Settle(context.Background(), req); err != nil {
		t.Fatalf("retry: %v", err)
	}

	// The same request id for another claim: ALREADY_EXISTS, a store conflict.
	other := proto.Clone(req).(*pb.SettleRequest)
	other.Items = other.Items[:1]
	if _, err := client.Settle(context.Background(), other); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("reused request id: %v", err)
	}

	// The server records a call's duration once the call has ended, which
	// may be just after the client has its answer: scrape until the last
	// call is in (or 5 s have passed, and the checks below say what is not).
	settleOK := map[string]string{"rpc_method": "medsettle.v1.SettlementService/Settle", "rpc_response_status_code": "OK"}
	fams := scrapeFamilies(t, "http://"+maddr+"/metrics")
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		if n, ok := sample(fams, "rpc_server_call_duration_seconds", settleOK); ok && n >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
		fams = scrapeFamilies(t, "http://"+maddr+"/metrics")
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"medsettle_settlements_total", map[string]string{"code": "OK", "visit_type": "inpatient"}, 2},
		{"medsettle_settlements_total", map[string]string{"code": "AlreadyExists", "visit_type": "inpatient"}, 1},
		// The retry and the conflict paid nothing more.
		{"medsettle_fund_paid_fen_total", map[string]string{"fund": "basic"}, 644100},
		{"medsettle_fund_paid_fen_total", map[string]string{"fund": "cash"}, 155900},
		{"medsettle_fund_paid_fen_total", map[string]string{"fund": "catastrophic"}, 0},
		{"medsettle_fund_paid_fen_total", map[string]string{"fund": "medical_aid"}, 0},
		{"medsettle_fund_paid_fen_total", map[string]string{"fund": "account"}, 0},
		{"medsettle_settlements_budget_total", map[string]string{"state": "within"}, 1},
		{"medsettle_store_errors_total", map[string]string{"op": "Settle", "kind": "conflict"}, 1},
		{"rpc_server_call_duration_seconds", map[string]string{
			"rpc_method": "medsettle.v1.SettlementService/Settle", "rpc_response_status_code": "OK"}, 2},
		{"target_info", map[string]string{"service_name": "medsettle"}, 1},
	} {
		got, ok := sample(fams, c.name, c.labels)
		if !ok {
			t.Errorf("no sample %s%v", c.name, c.labels)
		} else if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if fams["rpc_server_call_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("rpc_server_call_duration_seconds is a %v, want a histogram", fams["rpc_server_call_duration_seconds"].GetType())
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestServeMetricsListenError: an address --metrics-listen cannot listen
// on stops serve at start, naming the flag.
func TestServeMetricsListenError(t *testing.T) {
	err := serve(context.Background(), []string{"--listen", freeAddr(t), "--metrics-listen", "127.0.0.1:no-port"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--metrics-listen 127.0.0.1:no-port") {
		t.Fatalf("serve returned %v", err)
	}
}

// scrapeFamilies GETs a /metrics URL and parses the text exposition.
func scrapeFamilies(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(scrape(t, url)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample is the value of the one sample of family name whose labels
// include want: a counter's or gauge's value, a histogram's count.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// scrape GETs url and returns the body of a 200 answer.
func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	return string(b)
}
