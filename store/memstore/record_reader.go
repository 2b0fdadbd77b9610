package memstore

import (
	"encoding/binary"

	"github.com/medsettle/medsettle/engine"
)

// recordReader reads the fields of an encoded settlement record
// (record_codec.go) in order. A read past the end or a malformed varint
// sets bad and reads as zero from then on.
type recordReader struct {
	b   []byte
	s   string // b as a string: str returns substrings of it
	off int
	bad bool
}

func (r *recordReader) fail() {
	r.bad = true
	r.off = len(r.b)
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *recordReader) int64() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.off += n
	return v
}

func (r *recordReader) int() int { return int(r.int64()) }

func (r *recordReader) money() engine.Money { return engine.MoneyFromFen(r.int64()) }

func (r *recordReader) byte() byte {
	if r.off >= len(r.b) {
		r.fail()
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *recordReader) fixed32() uint32 {
	if len(r.b)-r.off < 4 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

// span reads a string's length and returns where its bytes are.
func (r *recordReader) span() (int, int) {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.off) {
		r.fail()
		return r.off, r.off
	}
	start := r.off
	r.off += int(n)
	return start, r.off
}

func (r *recordReader) str() string {
	i, j := r.span()
	return r.s[i:j]
}

func (r *recordReader) bytes() []byte {
	i, j := r.span()
	return r.b[i:j:j]
}

func (r *recordReader) skipStr() { r.span() }

// len reads a slice's or map's length; false for nil. A length larger
// than the bytes left could hold is malformed.
func (r *recordReader) len() (int, bool) {
	n := r.uvarint()
	if n == 0 {
		return 0, false
	}
	if n-1 > uint64(len(r.b)-r.off) {
		r.fail()
		return 0, true
	}
	return int(n - 1), true
}
