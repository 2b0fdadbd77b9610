package national

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestBusyAndPanic: beyond its places the gateway answers 503 "系统繁忙"
// after its queue wait; a handler's panic is "内部错误", recorded as
// INTERNAL, and the gateway goes on.
func TestBusyAndPanic(t *testing.T) {
	s := newServed(t, SchemeXTif, WithMaxInFlight(1, 20*time.Millisecond))
	hold, held := make(chan struct{}), make(chan struct{})
	register("0997", func(context.Context, *Gateway, *Call, json.RawMessage) (any, error) {
		close(held)
		<-hold
		return struct{}{}, nil
	})
	register("0996", func(context.Context, *Gateway, *Call, json.RawMessage) (any, error) { panic("handler bug") })
	defer delete(handlers, "0997")
	defer delete(handlers, "0996")
	done := make(chan int)
	go func() {
		code, _, _ := s.post("0997", `{}`)
		done <- code
	}()
	<-held
	code, h, r, raw := s.do(http.MethodPost, nationalPath, "application/json", s.sign("AK1", secretH1), signIn9001("M-busy"))
	if code != http.StatusServiceUnavailable || r.ErrMsg != msgBusy || h.Get("Retry-After") != "1" {
		t.Fatalf("over the places: HTTP %d %s", code, raw)
	}
	close(hold)
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the held request: HTTP %d", code)
	}
	code, r2, raw := s.post("0996", `{}`)
	if code != http.StatusOK || r2.Infcode != "-1" || r2.ErrMsg != msgInternal {
		t.Fatalf("panic: HTTP %d %s", code, raw)
	}
	ev := s.events()
	if last := ev[len(ev)-1]; last.Method != "national/0996" || last.Code != 13 {
		t.Fatalf("the panic's event %+v", last)
	}
	if code, r, raw := s.post("9001", `{"signIn":{"opter_no":"1"}}`); code != http.StatusOK || r.Infcode != "0" {
		t.Fatalf("after the panic: HTTP %d %s", code, raw)
	}
}

// TestConcurrentRequests: many signed requests at once, each with its own
// nonce, all answered; each a distinct inf_refmsgid; one audit event
// each.
func TestConcurrentRequests(t *testing.T) {
	s := newServed(t, SchemeXTif)
	const n = 64
	ts := strconv.FormatInt(servedNow.Unix(), 10)
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json",
				tifHeaders("AK1", secretH1, ts, "c-"+strconv.Itoa(i)), signIn9001("M"+strconv.Itoa(i)))
			if code != http.StatusOK || r.Infcode != "0" {
				t.Errorf("%d: HTTP %d %s", i, code, raw)
			}
			ids[i] = r.InfRefmsgid
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("inf_refmsgid %s answered twice", id)
		}
		seen[id] = true
	}
	if got := len(s.events()); got != n {
		t.Fatalf("%d events, want %d", got, n)
	}
}
