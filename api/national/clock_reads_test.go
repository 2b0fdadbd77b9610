package national

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// TestAuditTimeIsRespondTime: on a clock that moves at every reading, the
// audit event of a request is at its answer's respond_time (one reading
// serves both), after its arrival.
func TestAuditTimeIsRespondTime(t *testing.T) {
	var mu sync.Mutex
	tick := servedNow
	ticking := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(7 * time.Millisecond)
		return tick
	}
	s := newServed(t, SchemeXTif, WithClock(ticking))
	s.clock = &testClock{t: servedNow} // signs near the gateway's clock
	for i, body := range []string{signIn9001("M-AUDIT-1"), envelope("2301", "M-AUDIT-2", "H61030000001", `{"feedetail":[]}`)} {
		_, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", s.sign("AK1", secretH1), body)
		msgid := []string{"M-AUDIT-1", "M-AUDIT-2"}[i]
		ev, err := s.st.AuditEvents(t.Context(), store.AuditFilter{Institution: "H1", RequestID: msgid})
		if err != nil || len(ev) != 1 {
			t.Fatalf("%s: events %+v, %v", msgid, ev, err)
		}
		if got := respTime(ev[0].Time); got != r.RespondTime || r.RespondTime <= r.RefmsgTime {
			t.Fatalf("%s: audit event at %s, answer respond_time %s after refmsg_time %s: %s", msgid, got, r.RespondTime, r.RefmsgTime, raw)
		}
	}
}

// TestRequestLimitFromArrival: the request limit counts from the system's
// clock, whichever clock the gateway answers with: from the arrival when
// the gateway's clock is the system's, from a reading of the system's
// clock when it is another (a fixed clock of 2025 here).
func TestRequestLimitFromArrival(t *testing.T) {
	const limit = 20 * time.Second
	deadlines := make(chan time.Time, 1)
	register("0993", func(ctx context.Context, _ *Gateway, _ *Call, _ json.RawMessage) (any, error) {
		d, ok := ctx.Deadline()
		if !ok {
			t.Error("the handler's context has no deadline")
		}
		deadlines <- d
		return struct{}{}, nil
	})
	defer delete(handlers, "0993")
	for _, system := range []bool{true, false} {
		st := memstore.New()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		clock := &testClock{t: servedNow}
		_, _, local := api.NewServerWithLocal(api.Config{Store: st, Log: log})
		opts := []Option{WithLogger(log), WithRequestTimeout(limit)}
		signAt := time.Now()
		if !system {
			opts = append(opts, WithClock(clock.now))
			signAt = clock.now()
		}
		g, err := New(servedConfig(SchemeXTif), local, st, st, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if g.systemClock != system {
			t.Fatalf("systemClock %v, want %v", g.systemClock, system)
		}
		req := httptest.NewRequest(http.MethodPost, nationalPath,
			strings.NewReader(envelope("0993", "M-LIMIT", "H61030000001", `{}`)))
		req.Header = tifHeaders("AK1", secretH1, strconv.FormatInt(signAt.Unix(), 10), "limit-nonce")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		before := time.Now()
		g.ServeHTTP(w, req)
		after := time.Now()
		if !strings.Contains(w.Body.String(), `"infcode":"0"`) {
			t.Fatalf("system clock %v: %s", system, w.Body.String())
		}
		d := <-deadlines
		if d.Before(before.Add(limit)) || d.After(after.Add(limit)) {
			t.Fatalf("system clock %v: deadline %s, want within [%s, %s]", system, d, before.Add(limit), after.Add(limit))
		}
	}
}
