package api

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"tokens": [
		{"token": "0123456789abcdef-h3", "role": "institution:QZ-H3"},
		{"token": "0123456789abcdef-ad", "role": "admin"},
		{"token": "0123456789abcdef-cl", "role": "clearing"}]}`)
	tokens, err := LoadTokens(good, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if tokens.Open() || len(tokens.entries) != 3 || tokens.entries[0].principal != (Principal{Role: RoleInstitution, Institution: "QZ-H3"}) {
		t.Errorf("loaded %+v", tokens.entries)
	}
	for name, c := range map[string]struct{ body, want string }{
		"no token":  {`{"tokens": [{"role": "admin"}]}`, "has no token"},
		"role":      {`{"tokens": [{"token": "0123456789abcdef", "role": "root"}]}`, `role "root"`},
		"empty id":  {`{"tokens": [{"token": "0123456789abcdef", "role": "institution:"}]}`, "institution:<id>"},
		"duplicate": {`{"tokens": [{"token": "0123456789abcdef", "role": "admin"}, {"token": "0123456789abcdef", "role": "clearing"}]}`, "repeats"},
		"none":      {`{"tokens": []}`, "lists no tokens"},
		"misspelt":  {`{"tokens": [{"token": "0123456789abcdef", "rol": "admin"}]}`, `role ""`},
		"not json":  {`tokens: x`, "is not"},
	} {
		_, err := LoadTokens(write(name+".json", c.body), slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%s: the error reveals a token: %v", name, err)
		}
	}
	if _, err := LoadTokens(filepath.Join(dir, "missing.json"), slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a missing file loaded")
	}
	// A short token and keys beside the token are accepted; the short one
	// is warned about, without the token itself.
	var logged bytes.Buffer
	short := write("short.json", `{"tokens": [
		{"token": "t-admin", "role": "admin", "name": "ops"},
		{"token": "0123456789abcdef-h2", "role": "institution:QZ-H2", "comment": "ward 2"}]}`)
	tokens, err = LoadTokens(short, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := tokens.lookup("t-admin"); !ok || p.Role != RoleAdmin {
		t.Errorf("short admin token: %+v %v", p, ok)
	}
	if out := logged.String(); !strings.Contains(out, "short token") || !strings.Contains(out, "entry=0") || strings.Contains(out, "t-admin") || strings.Contains(out, "entry=1") {
		t.Errorf("warning log %q: want one warning about entry 0 that does not show the token", out)
	}
}
