package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gatewaySecret is the test config's secret: the log must never hold it.
const gatewaySecret = "serve-test-secret-never-logged-42"

// writeGatewayConfig writes a config for demo institution QZ-H3.
func writeGatewayConfig(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "national.json")
	cfg := fmt.Sprintf(`{"scheme":"x-tif","area":"350500","institutions":[{"fixmedins_code":"H35050000003","institution_id":"QZ-H3","key":"K-QZ-H3","secret":%q}]}`, secret)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeNationalGateway starts `serve --demo` with the gateway, signs
// in and looks a demo person up over HTTP, then stops both listeners as
// SIGTERM would.
func TestServeNationalGateway(t *testing.T) {
	addr, gw := freeAddr(t), freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"--demo", "--listen", addr, "--national-listen", gw, "--national-config", writeGatewayConfig(t, gatewaySecret)}, &logs)
	}()
	post := func(infno, input string) (int, map[string]any) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		nonce := "serve-" + infno
		body := fmt.Sprintf(`{"infno":%q,"msgid":"H350500000032026%s","fixmedins_code":"H35050000003","input":%s}`, infno, infno, input)
		req, err := http.NewRequest(http.MethodPost, "http://"+gw+"/fsi/api/rsfComIfsService/callService", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-tif-paasid", "K-QZ-H3")
		req.Header.Set("x-tif-timestamp", ts)
		req.Header.Set("x-tif-nonce", nonce)
		req.Header.Set("x-tif-signature", fmt.Sprintf("%x", sha256.Sum256([]byte(ts+gatewaySecret+nonce+ts))))
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); ; {
			if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
			req.Body, _ = req.GetBody()
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", infno, err, logs.String())
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	if code, out := post("9001", `{"signIn":{"opter_no":"01"}}`); code != http.StatusOK || out["infcode"] != "0" {
		t.Fatalf("9001: HTTP %d %v", code, out)
	}
	code, out := post("1101", `{"data":{"mdtrt_cert_no":"E1"}}`)
	if code != http.StatusOK || out["infcode"] != "0" {
		t.Fatalf("1101: HTTP %d %v", code, out)
	}
	if base := out["output"].(map[string]any)["baseinfo"].(map[string]any); base["psn_no"] != "E1" {
		t.Fatalf("1101 baseinfo %v", base)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	for _, want := range []string{"national gateway serving", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), gatewaySecret) {
		t.Fatalf("the log holds the secret:\n%s", logs.String())
	}
}

// TestServeNationalFlagErrors: the gateway's flags go together, and a
// bad config stops the start, naming the problem but not the secret.
func TestServeNationalFlagErrors(t *testing.T) {
	good := writeGatewayConfig(t, gatewaySecret)
	short := writeGatewayConfig(t, "short")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--national-listen", "127.0.0.1:0"}, "go together"},
		{[]string{"--national-config", good}, "go together"},
		{[]string{"--national-listen", "127.0.0.1:0", "--national-config", "/nonexistent.json"}, "read national config"},
		{[]string{"--national-listen", "127.0.0.1:0", "--national-config", short}, "secret is shorter than 16"},
		{[]string{"--national-listen", "256.0.0.1:1", "--national-config", good}, "--national-listen"},
	} {
		var logs syncBuffer
		err := serve(context.Background(), append(c.args, "--listen", "127.0.0.1:0"), &logs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), gatewaySecret) {
			t.Errorf("%v: the error holds the secret", c.args)
		}
	}
}
