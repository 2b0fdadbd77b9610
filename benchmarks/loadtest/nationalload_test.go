package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHISLoadRequests: the gateway row's client signs every request as
// GATEWAY.md says (x-tif, a new nonce each), sends well-formed envelopes
// of QZ-H3 with the claim's six lines as JSON numbers, and reads the
// mdtrt_id of 2401 and the infcode of every answer.
func TestHISLoadRequests(t *testing.T) {
	var mu sync.Mutex
	nonces := map[string]bool{}
	var infnos []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, nonce := r.Header.Get("x-tif-timestamp"), r.Header.Get("x-tif-nonce")
		sum := sha256.Sum256([]byte(ts + gatewaySecret + nonce + ts))
		if r.URL.Path != gatewayPath || r.Header.Get("x-tif-paasid") != gatewayKey || r.Header.Get("x-tif-signature") != hex.EncodeToString(sum[:]) {
			http.Error(w, `{"infcode":"-1","err_msg":"bad signature"}`, http.StatusUnauthorized)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var env struct {
			Infno, Msgid  string
			FixmedinsCode string `json:"fixmedins_code"`
			Input         map[string]any
		}
		if err := dec.Decode(&env); err != nil || env.FixmedinsCode != gatewayFixmedins || len(env.Msgid) != 30 {
			t.Errorf("envelope %s: %v", raw, err)
		}
		mu.Lock()
		if nonces[nonce] {
			t.Errorf("nonce %s sent twice", nonce)
		}
		nonces[nonce] = true
		infnos = append(infnos, env.Infno)
		mu.Unlock()
		switch env.Infno {
		case "2401":
			_, _ = io.WriteString(w, `{"infcode":"0","err_msg":"","output":{"result":{"mdtrt_id":"MD-1"}}}`)
		case "2301":
			lines, _ := env.Input["feedetail"].([]any)
			if len(lines) != len(claimItems) {
				t.Errorf("2301 sends %d lines", len(lines))
			}
			for i, l := range lines {
				m := l.(map[string]any)
				if n, ok := m["det_item_fee_sumamt"].(json.Number); !ok || string(n) != claimItems[i]["amount"] || m["mdtrt_id"] != "MD-1" {
					t.Errorf("line %d: %v", i, m)
				}
			}
			_, _ = io.WriteString(w, `{"infcode":"0","err_msg":"","output":{"result":[]}}`)
		case "2304":
			d := env.Input["data"].(map[string]any)
			if d["medfee_sumamt"] != json.Number(gatewayClaimTotal) || d["psn_no"] != "LT1" {
				t.Errorf("2304 data %v", d)
			}
			_, _ = io.WriteString(w, `{"infcode":"-1","err_msg":"预结算结果已变化","output":null}`)
		}
	}))
	defer srv.Close()
	h := newHISLoad(strings.TrimPrefix(srv.URL, "http://"), 4)
	visits, err := h.openVisits(context.Background(), people{"LT", 2}, "p", 2, 2)
	if err != nil || len(visits) != 2 || visits[1] != (hisVisit{id: "MD-1", person: "LT1"}) {
		t.Fatalf("openVisits: %v %v", visits, err)
	}
	var s scratch
	err = h.claim(context.Background(), visits[1], "2026-11-27", &s)
	if err == nil || err.Error() != "2304: infcode -1: 预结算结果已变化" {
		t.Fatalf("claim: %v", err)
	}
	if strings.Join(infnos[2:], ",") != "2301,2304" || len(nonces) != 4 {
		t.Fatalf("requests %v, %d nonces", infnos, len(nonces))
	}
}

// TestHISLoadConnections: the client keeps its connection alive, opens a
// new one when the server closes it (Connection: close), sends a request
// again once when a kept-alive connection is closed before any answer,
// and reads an error answer's err_msg.
func TestHISLoadConnections(t *testing.T) {
	var mu sync.Mutex
	n, conns := 0, map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		n++
		k := n
		conns[r.RemoteAddr] = true
		mu.Unlock()
		switch k {
		case 2:
			w.Header().Set("Connection", "close")
		case 4:
			c, _, _ := w.(http.Hijacker).Hijack() // closed before answering
			_ = c.Close()
			return
		case 6:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"infcode":"-1","err_msg":"签名不符"}`)
			return
		}
		_, _ = io.WriteString(w, `{"infcode":"0","err_msg":"","output":{}}`)
	}))
	defer srv.Close()
	h := newHISLoad(strings.TrimPrefix(srv.URL, "http://"), 1)
	var s scratch
	defer s.closeConn()
	for i := 1; i <= 4; i++ { // the 4th is answered on its second sending (request 5)
		if err := h.post(context.Background(), []byte(`{}`), &s); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if err := h.post(context.Background(), []byte(`{}`), &s); err == nil || err.Error() != "HTTP 401: infcode -1: 签名不符" {
		t.Fatalf("401: %v", err)
	}
	if n != 6 || len(conns) != 3 {
		t.Fatalf("%d requests over %d connections, want 6 over 3", n, len(conns))
	}
}

// TestHISLoadTimeoutNotResent: a request the server read and did not
// answer in time is an error, never sent again (its nonce was used); a
// cancelled run stops waiting at once.
func TestHISLoadTimeoutNotResent(t *testing.T) {
	var mu sync.Mutex
	var nonces []string
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		nonces = append(nonces, r.Header.Get("x-tif-nonce"))
		k := len(nonces)
		mu.Unlock()
		if k >= 2 {
			<-release // never answered in time
			return
		}
		_, _ = io.WriteString(w, `{"infcode":"0","err_msg":"","output":{}}`)
	}))
	defer srv.Close()
	defer close(release)
	h := newHISLoad(strings.TrimPrefix(srv.URL, "http://"), 1)
	h.timeout = 300 * time.Millisecond
	var s scratch
	defer s.closeConn()
	if err := h.post(context.Background(), []byte(`{}`), &s); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if err := h.post(context.Background(), []byte(`{}`), &s); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("an unanswered request: %v, want a timeout", err)
	}
	mu.Lock()
	if len(nonces) != 2 {
		t.Fatalf("the server read %d requests (%v), want 2: the timed-out one was sent again", len(nonces), nonces)
	}
	mu.Unlock()

	h.timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	if err := h.post(ctx, []byte(`{}`), &s); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a cancelled run waited %s for an answer", d)
	}
}

// TestHISLoadMsgidsDistinct: within one second the client's msgids stay
// distinct well past the gateway's request rate, and 30 characters long.
func TestHISLoadMsgidsDistinct(t *testing.T) {
	h := newHISLoad("127.0.0.1:1", 1)
	var s scratch
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 50_000 {
		var env struct{ Msgid string }
		if err := json.Unmarshal(h.envelope(nil, "2301", now, []byte(`{}`), &s), &env); err != nil {
			t.Fatal(err)
		}
		if len(env.Msgid) != 30 || seen[env.Msgid] {
			t.Fatalf("msgid %q: length %d, seen before %v", env.Msgid, len(env.Msgid), seen[env.Msgid])
		}
		seen[env.Msgid] = true
	}
}
