package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestProfilerGatewayClient: -profile writes the server's profile of
// each row and, for the gateway row only, a CPU profile of this process
// (its HIS client) over the same seconds.
func TestProfilerGatewayClient(t *testing.T) {
	var mu sync.Mutex
	var seconds []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/debug/pprof/profile":
			mu.Lock()
			seconds = append(seconds, r.URL.Query().Get("seconds"))
			mu.Unlock()
			_, _ = io.WriteString(w, "server profile")
		case "/debug/pprof/mutex":
			_, _ = io.WriteString(w, "mutex profile "+r.URL.Query().Get("seconds"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	pr := &profiler{dir: dir, addr: strings.TrimPrefix(srv.URL, "http://")}
	ctx := context.Background()
	startedG, waitG := pr.during(ctx, 4*time.Second, "memstore-"+gatewayCallID)
	startedS, waitS := pr.during(ctx, 4*time.Second, "memstore-settle")
	start := time.Now()
	startedG()
	startedS()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) { // some work of this process to sample
		_ = bytes.Repeat([]byte("x"), 1<<10)
	}
	if err := waitG(); err != nil {
		t.Fatal(err)
	}
	if err := waitS(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("the profiles took %s, want a second's delay and one second", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seconds, ",") != "1,1" {
		t.Fatalf("server profiles of %v seconds, want 1 and 1", seconds)
	}
	for _, name := range []string{"memstore-gateway", "memstore-settle"} {
		if b, err := os.ReadFile(filepath.Join(dir, name+".pprof")); err != nil || string(b) != "server profile" {
			t.Fatalf("%s.pprof: %q %v", name, b, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, name+".mutex.pprof")); err != nil || string(b) != "mutex profile 1" {
			t.Fatalf("%s.mutex.pprof: %q %v", name, b, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "memstore-gateway-client.pprof"))
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // pprof's gzipped protobuf
		t.Fatalf("the client's profile: %d bytes, %v", len(b), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "memstore-settle-client.pprof")); !os.IsNotExist(err) {
		t.Fatalf("a ghz row has a client profile: %v", err)
	}
}
