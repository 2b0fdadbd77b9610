package national

import (
	"encoding/json"
	"testing"
)

// TestUnquote: unquote reads every string literal as json.Unmarshal does
// (escapes, surrogates, invalid UTF-8 replaced, control characters and
// malformed literals refused).
func TestUnquote(t *testing.T) {
	for _, lit := range []string{`""`, `"H1"`, `"院内A1"`, `"a\"b"`, `"a\\b"`, `"\u4e2d\n"`, `"\ud83d\ude00"`,
		"\"\xff\xfe\"", "\"a\tb\"", `"`, `"abc`, `abc"`, `'x'`, `"a"b"`, "\"\u00e9\""} {
		var want string
		werr := json.Unmarshal([]byte(lit), &want)
		got, err := unquote([]byte(lit))
		if (err != nil) != (werr != nil) || got != want {
			t.Errorf("unquote(%q) = %q, %v; json.Unmarshal %q, %v", lit, got, err, want, werr)
		}
	}
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"H1"`, `"a\"b"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		werr := json.Unmarshal(b, &want)
		got, err := unquote(b)
		if werr == nil && (err != nil || got != want) {
			t.Fatalf("unquote(%q) = %q, %v; json.Unmarshal %q", b, got, err, want)
		}
	})
}
