package api

import (
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
	tokens, err := LoadTokens(good)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.Open() || len(tokens.entries) != 3 || tokens.entries[0].principal != (Principal{Role: RoleInstitution, Institution: "QZ-H3"}) {
		t.Errorf("loaded %+v", tokens.entries)
	}
	for name, c := range map[string]struct{ body, want string }{
		"short":     {`{"tokens": [{"token": "short", "role": "admin"}]}`, "at least 16"},
		"role":      {`{"tokens": [{"token": "0123456789abcdef", "role": "root"}]}`, `role "root"`},
		"empty id":  {`{"tokens": [{"token": "0123456789abcdef", "role": "institution:"}]}`, "institution:<id>"},
		"duplicate": {`{"tokens": [{"token": "0123456789abcdef", "role": "admin"}, {"token": "0123456789abcdef", "role": "clearing"}]}`, "repeats"},
		"none":      {`{"tokens": []}`, "lists no tokens"},
		"unknown":   {`{"tokens": [], "extra": 1}`, "is not"},
		"not json":  {`tokens: x`, "is not"},
	} {
		_, err := LoadTokens(write(name+".json", c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789abcdef") {
			t.Errorf("%s: the error reveals a token: %v", name, err)
		}
	}
	if _, err := LoadTokens(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing file loaded")
	}
}
