package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestNationalSigningExample recomputes docs/NATIONAL.md's worked
// signatures from the demo credential of QZ-H3, checks that the page
// quotes them, and that the gateway accepts the x-tif one at its time.
func TestNationalSigningExample(t *testing.T) {
	page, err := os.ReadFile("../../docs/NATIONAL.md")
	if err != nil {
		t.Fatal(err)
	}
	const ts, nonce = "1795741200", "19ac4e1a000-3f2a1b"
	s := startGatewayDemo(t, "", func() time.Time { return time.Unix(1795741200, 0) })
	his := s.his(t, "H35050000003", func() time.Time { return time.Unix(1795741200, 0) })
	tif := sha256.Sum256([]byte(ts + his.secret + nonce + ts))
	csbText := "_api_access_key=" + his.key + "&_api_name=hssServives&_api_timestamp=" + ts + "000&_api_version=1.0.0"
	m := hmac.New(sha1.New, []byte(his.secret))
	m.Write([]byte(csbText))
	for _, want := range []string{hex.EncodeToString(tif[:]), csbText, base64.StdEncoding.EncodeToString(m.Sum(nil)),
		ts + his.secret + nonce + ts, "examples/national-config.json"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("docs/NATIONAL.md does not quote %q", want)
		}
	}
	raw, _ := his.body("9001", map[string]any{"signIn": map[string]string{"opter_no": "0001"}})
	req, err := http.NewRequest(http.MethodPost, his.url+his.path, strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-tif-paasid", his.key)
	req.Header.Set("x-tif-timestamp", ts)
	req.Header.Set("x-tif-nonce", nonce)
	req.Header.Set("x-tif-signature", hex.EncodeToString(tif[:]))
	resp, err := his.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the page's x-tif example: HTTP %d", resp.StatusCode)
	}
}
