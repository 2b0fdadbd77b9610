package jsonquote

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// samples are the strings every encoding/json escape rule applies to.
var samples = []string{
	"", "plain ASCII", `"quoted" \back\slash`, "\b\f\n\r\t", "\x00\x01\x1f\x7f",
	"<a href='x'>&amp;</a>", "\u2028 and \u2029", "医保结算 一站式", "emoji 🏥",
	"\xff", "\xc3", "\xe4\xb8", "\xc0\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80", "ok\xffok",
}

// marshal is what encoding/json writes for s, with or without HTML
// escaping.
func marshal(t *testing.T, s string, html bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendAsEncodingJSON(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>32))
	strs := append([]string(nil), samples...)
	for range 20_000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(0x80)) // ASCII, control characters included
			case 1:
				b[i] = byte(rng.IntN(256)) // any byte: invalid UTF-8 too
			default:
				b[i] = "<>&\"\\\n"[rng.IntN(6)]
			}
		}
		r := []rune{rune(rng.IntN(0x30000)), '\u2028', '\u2029', '中'}[rng.IntN(4)]
		strs = append(strs, string(b)+string(r))
	}
	for _, html := range []bool{false, true} {
		for _, s := range strs {
			prefix := []byte("kept:")
			got := Append(prefix, s, html)
			if want := marshal(t, s, html); !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("seed %d, html %v: Append(%q) = %s, encoding/json writes %s", seed, html, s, got[len(prefix):], want)
			}
			if string(got[:len(prefix)]) != "kept:" {
				t.Fatalf("Append changed the bytes before it: %q", got)
			}
		}
	}
}

func TestAppendHTML(t *testing.T) {
	if got := string(Append(nil, "<&>", true)); got != `"\u003c\u0026\u003e"` {
		t.Errorf("html: %s", got)
	}
	if got := string(Append(nil, "<&>", false)); got != `"<&>"` {
		t.Errorf("no html: %s", got)
	}
}

func TestAppendAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { _ = Append(buf[:0], "医保 <x> \n\xff", true) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
