package engine_test

import (
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestCheckIDCountsCharacters: API.md limits ids to 64 characters, so 64
// Chinese characters (192 bytes) fit and 65 do not; control characters,
// which no HIS id contains and PostgreSQL cannot store (NUL), are refused.
func TestCheckIDCountsCharacters(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want string // "" when valid, else a word of the violation
	}{
		{"ZY2026-000123", ""},
		{strings.Repeat("住", engine.MaxIDLen), ""},
		{strings.Repeat("x", engine.MaxIDLen), ""},
		{strings.Repeat("住", engine.MaxIDLen+1), "65 characters long"},
		{strings.Repeat("x", engine.MaxIDLen+1), "65 characters long"},
		{strings.Repeat("x", 4*engine.MaxIDLen+1), "257 bytes long"},
		{"", "required"},
		{"ZY\xff", "UTF-8"},
		{"ZY\x00001", "U+0000"},
		{"ZY\t1", "U+0009"},
		{"ZY\u00851", "U+0085"},
	} {
		var v engine.Violations
		engine.CheckID(&v, "request_id", tc.id)
		err := v.Err()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckID(%q) = %v, want valid", tc.id, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckID(%q) = %v, want a violation saying %q", tc.id, err, tc.want)
		}
	}
	// Free text: newlines and tabs are fine, NUL is not; 500 characters of
	// Chinese fit a reason of 500.
	for text, ok := range map[string]bool{
		"患者信息录入错误\n\t重新结算":                         true,
		strings.Repeat("错", engine.MaxReasonLen):   true,
		strings.Repeat("错", engine.MaxReasonLen+1): false,
		"bad\x00": false,
	} {
		var v engine.Violations
		engine.CheckText(&v, "reason", text, engine.MaxReasonLen)
		if got := v.Err() == nil; got != ok {
			t.Errorf("CheckText(%.20q) valid = %v, want %v (%v)", text, got, ok, v.Err())
		}
	}
}
