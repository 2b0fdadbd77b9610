package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestClearFlagErrors checks that a command line that cannot work is
// refused before anything is dialed, naming what is wrong.
func TestClearFlagErrors(t *testing.T) {
	// Nothing listens on port 1: an error that came from dialing would
	// say Unavailable.
	addr := []string{"--addr", "127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"needs a kind"}},
		{[]string{"points"}, []string{`"points" is not a kind`}},
		{[]string{"--region", "350500", "drg"}, []string{"needs a kind first: drg, budget or capitation, then the flags"}},
		{[]string{"drg"}, []string{"clear drg needs --region, --scheme, --year, --budget", "example: medsettle clear drg"}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026"}, []string{"needs --budget"}},
		{[]string{"drg", "--region", "350500", "--scheme", "boss", "--year", "2026", "--budget", "1"}, []string{`--scheme "boss" must be employee or resident`}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "-5"}, []string{"--budget", "money above 0"}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "1.005"}, []string{"at most two decimals"}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "1", "--from", "2026-13-01"}, []string{`--from "2026-13-01" is not a date`}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "1", "--to", "2025-12-31"}, []string{"--to 2025-12-31 is not in --year 2026"}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "1", "--contract", "X"}, []string{"clear drg does not take --contract"}},
		{[]string{"budget", "--region", "350500"}, []string{"clear budget needs --scheme, --year"}},
		{[]string{"budget", "--region", "350500", "--scheme", "resident", "--year", "2026", "--budget", "100"}, []string{"clear budget does not take --budget", "budget from the registry"}},
		{[]string{"budget", "--region", "350500", "--scheme", "resident", "--year", "2026", "--from", "2026-02-01"}, []string{"does not take --from", "whole year"}},
		{[]string{"capitation"}, []string{"clear capitation needs --contract", "example: medsettle clear capitation --contract SX-2026"}},
		{[]string{"capitation", "--contract", "SX-2026", "--year", "2026", "--region", "610300"}, []string{"does not take --region, --year", "from the contract"}},
		{[]string{"capitation", "--contract", " "}, []string{"--contract is empty"}},
		{[]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "20260", "--budget", "1"}, []string{"--year 20260 is not a year"}},
		{[]string{"drg", "--nonsense"}, []string{"flag provided but not defined"}},
		{[]string{"drg", "extra", "--region", "350500"}, []string{`takes only flags; unexpected ["extra"`}},
	} {
		var out, errOut bytes.Buffer
		err := runClear(context.Background(), append(c.args, addr...), &out, &errOut)
		if err == nil {
			t.Errorf("%v: no error", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q lacks %q", c.args, err, w)
			}
		}
		if strings.Contains(err.Error(), "Unavailable") || out.Len() > 0 {
			t.Errorf("%v: dialed or printed before refusing: %v %q", c.args, err, out.String())
		}
	}
}

// TestClearFlagsBuildTheRequest checks what each kind asks the server.
func TestClearFlagsBuildTheRequest(t *testing.T) {
	var errOut bytes.Buffer
	o, err := parseClearFlags([]string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "500000",
		"--from", "2026-01-01", "--to", "2026-06-30", "--final", "--csv", "out", "--html", "r.html", "--token", "T", "--addr", "h:1"}, &errOut)
	must(t, err)
	r := o.req
	if r.GetKind() != pb.ClearingKind_CLEARING_KIND_DRG || r.GetRegion() != "350500" || r.GetScheme() != pb.Scheme_SCHEME_EMPLOYEE ||
		r.GetYear() != 2026 || r.GetBudget() != "500000" || r.GetPeriodFrom() != "2026-01-01" || r.GetPeriodTo() != "2026-06-30" || !r.GetFinal() {
		t.Errorf("drg request %v", r)
	}
	if o.csvDir != "out" || o.htmlOut != "r.html" || o.conn.token != "T" || o.conn.addr != "h:1" {
		t.Errorf("options %+v", o)
	}
	o, err = parseClearFlags([]string{"budget", "--region", "610300", "--scheme", "SCHEME_RESIDENT", "--year", "2026"}, &errOut)
	must(t, err)
	if o.req.GetKind() != pb.ClearingKind_CLEARING_KIND_BUDGET || o.req.GetScheme() != pb.Scheme_SCHEME_RESIDENT || o.req.GetFinal() {
		t.Errorf("budget request %v", o.req)
	}
	o, err = parseClearFlags([]string{"capitation", "--contract", "SX-2026"}, &errOut)
	must(t, err)
	if o.req.GetKind() != pb.ClearingKind_CLEARING_KIND_CAPITATION || o.req.GetContractId() != "SX-2026" || o.req.GetRegion() != "" {
		t.Errorf("capitation request %v", o.req)
	}
}

// TestClearUnreachableServer says what to do when no server answers.
func TestClearUnreachableServer(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runClear(context.Background(), []string{"capitation", "--contract", "SX-2026", "--addr", freeAddr(t)}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "Unavailable") || !strings.Contains(err.Error(), "what to do: no medsettle server answers") {
		t.Errorf("unreachable server: %v", err)
	}
}

// TestClearOverTLSWithTokens clears through TLS (--tls-ca) with a
// clearing token, as import dials; a wrong token or an institution's is
// refused with what to do.
func TestClearOverTLSWithTokens(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := writeCert(t, dir, "ca", true, nil, nil)
	writeCert(t, dir, "server", false, ca, caKey)
	tokens := filepath.Join(dir, "tokens.json")
	must(t, os.WriteFile(tokens, []byte(`{"tokens": [{"token": "clearing-token-for-tls", "role": "clearing"},
		{"token": "hospital-token-for-tls", "role": "institution:QZ-H3"}]}`), 0o600))
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	go func() {
		_ = serve(ctx, []string{"--demo", "--listen", addr, "--tokens", tokens, "--tls-cert", filepath.Join(dir, "server.pem"),
			"--tls-key", filepath.Join(dir, "server.key")}, &logs)
	}()
	args := func(token string) []string {
		return []string{"drg", "--region", "350500", "--scheme", "employee", "--year", "2026", "--budget", "1000",
			"--addr", addr, "--tls-ca", filepath.Join(dir, "ca.pem"), "--token", token}
	}
	var out, errOut bytes.Buffer
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.Reset()
		err = runClear(context.Background(), args("clearing-token-for-tls"), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "Unavailable") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("clear over TLS: %v\n%s", err, logs.String())
	}
	// No settlement yet: the run succeeds with no line and pays nothing.
	for _, want := range []string{"paid total        0.00", "no institution lines"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("empty DRG run lacks %q:\n%s", want, out.String())
		}
	}
	if err := runClear(context.Background(), args("wrong-token-for-tls"), &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "Unauthenticated") || !strings.Contains(err.Error(), "what to do: pass a valid bearer token") {
		t.Errorf("wrong token: %v", err)
	}
	if err := runClear(context.Background(), args("hospital-token-for-tls"), &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "PermissionDenied") || !strings.Contains(err.Error(), "role clearing or admin") {
		t.Errorf("an institution's token: %v", err)
	}
	bad := append(args("clearing-token-for-tls"), "--tls-ca", filepath.Join(dir, "tokens.json"))
	if err := runClear(context.Background(), bad, &out, &errOut); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a CA file without a certificate: %v", err)
	}
}

// TestClearHelp prints the usage and succeeds.
func TestClearHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"drg", "--help"}} {
		var out, errOut bytes.Buffer
		if err := runClear(context.Background(), args, &out, &errOut); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String()+errOut.String(), "medsettle clear capitation --contract ID") {
			t.Errorf("%v: no usage", args)
		}
	}
}
