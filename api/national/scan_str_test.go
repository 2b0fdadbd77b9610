package national

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// strByByte is scanner.str read one byte at a time: the reference its
// eight-at-a-time skipping must agree with.
func strByByte(b []byte, start int) (end int, plain, ok bool) {
	if start >= len(b) || b[start] != '"' {
		return 0, false, false
	}
	plain = true
	for i := start + 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, plain, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return 0, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, false, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 4
			default:
				return 0, false, false
			}
		}
	}
	return 0, false, false
}

// TestStrSkipsAsByByte: str reads every literal as strByByte does, with
// its special bytes at every place of a word.
func TestStrSkipsAsByByte(t *testing.T) {
	alphabet := []byte("\"\\\x00\x1f\x20\x7f\x80\xff\xe4\xb8\xadaAzu0fF/bnrt!~")
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(b []byte) {
		t.Helper()
		for start := range min(len(b), 3) {
			s := scanner{b: b, i: start}
			lit, plain, ok := s.str()
			end, wantPlain, wantOK := strByByte(b, start)
			if ok != wantOK || (ok && (len(lit) != end-start || s.i != end || plain != wantPlain)) {
				t.Fatalf("%q from %d: str %q %v %v (at %d), by byte end %d %v %v", b, start, lit, plain, ok, s.i, end, wantPlain, wantOK)
			}
		}
	}
	for n := range 40 {
		for _, c := range alphabet {
			for pos := 1; pos < n; pos++ {
				b := make([]byte, n)
				b[0] = '"'
				for i := 1; i < n; i++ {
					b[i] = 'x'
				}
				b[pos] = c
				check(b)
				b = append(b, '"')
				check(b)
			}
		}
	}
	for range 200_000 {
		b := make([]byte, 1+rng.IntN(40))
		b[0] = '"'
		for i := 1; i < len(b); i++ {
			if rng.IntN(4) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		check(b)
	}
	for by := range 256 {
		for pos := range 8 {
			for _, fill := range []byte{'x', 0x20, 0x21, 0x80, 0xff, '"' + 1, '\\' - 1} {
				var v uint64
				for i := range 8 {
					c := fill
					if i == pos {
						c = byte(by)
					}
					v |= uint64(c) << (8 * i)
				}
				special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
				first := -1
				for i := range 8 {
					if special(byte(v >> (8 * i))) {
						first = i
						break
					}
				}
				m := strSpecial(v)
				if (m == 0) != (first < 0) || (m != 0 && bits.TrailingZeros64(m)>>3 != first) {
					t.Fatalf("strSpecial(%#x) = %#x, first special byte %d", v, m, first)
				}
			}
		}
	}
	for _, c := range []uint64{0, 1 << 63, 0x2020202020202020, 0x1f20202020202020, 0x2120212021202120, 0x5c00000000000000} {
		var want bool
		for i := range 8 {
			by := byte(c >> (8 * i))
			want = want || by == '"' || by == '\\' || by < 0x20
		}
		if (strSpecial(c) != 0) != want {
			t.Errorf("strSpecial(%#x) = %#x", c, strSpecial(c))
		}
	}
}
