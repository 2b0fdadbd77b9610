package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Claim is one hospital bill to settle.
type Claim struct {
	RequestID          string
	InstitutionID      string
	PersonID           string
	VisitType          VisitType
	SettleDate         Date
	CrossRegion        CrossRegion
	DRGCode            string
	UsePersonalAccount bool
	Items              []LineItem
}

// LineItem is one line of a bill.
type LineItem struct {
	Code      string
	Name      string
	Quantity  Quantity
	UnitPrice Price
	Amount    Money
}

// Year is the policy year of the claim: the calendar year of its settle date.
func (c Claim) Year() int { return c.SettleDate.Year }

// Fingerprint is a digest of everything that makes two claims the same
// request, so that a retry can be told from another request reusing its id.
// Decimals are compared by value ("10" and "10.00" are the same), and an
// unspecified cross_region is digested as LOCAL. Stores record the
// fingerprint of the claim as settled (Decided), and recognise a retry
// with SameRequest.
func (c Claim) Fingerprint() string {
	// The digest of "len:field;" for each text, the header
	// "visit;date;cross;account;", the item count and "end", exactly as
	// it has always been written (with fmt), streamed into the hash
	// through a buffer on the stack: only the answer is allocated.
	h := sha256.New()
	var buf [512]byte
	b := buf[:0]
	// room makes n bytes free in b (n well under len(buf)).
	room := func(n int) {
		if len(buf)-len(b) < n {
			h.Write(b)
			b = buf[:0]
		}
	}
	// text adds s, through as many buffers as it takes.
	text := func(s string) {
		for len(s) > 0 {
			if len(b) == len(buf) {
				h.Write(b)
				b = buf[:0]
			}
			n := copy(buf[len(b):], s)
			b = buf[:len(b)+n]
			s = s[n:]
		}
	}
	field := func(s string) {
		room(24)
		b = appendCount(b, len(s))
		b = append(b, ':')
		text(s)
		room(1)
		b = append(b, ';')
	}
	num := func(v int64, scale int) {
		var digits [scaledLen]byte
		d := shortScaled(&digits, v, scale) // the shortest form
		room(64)
		b = appendCount(b, len(d))
		b = append(b, ':')
		b = append(b, d...)
		b = append(b, ';')
	}
	field(c.RequestID)
	field(c.InstitutionID)
	field(c.PersonID)
	room(128)
	b = strconv.AppendInt(b, int64(c.VisitType), 10)
	b = append(b, ';')
	b = c.SettleDate.appendTo(b)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(c.normalCrossRegion()), 10)
	b = append(b, ';')
	b = strconv.AppendBool(b, c.UsePersonalAccount)
	b = append(b, ';')
	field(c.DRGCode)
	room(24)
	b = appendCount(b, len(c.Items))
	b = append(b, ';')
	for i := range c.Items {
		it := &c.Items[i]
		field(it.Code)
		field(it.Name)
		num(it.Quantity.v, 4)
		num(it.UnitPrice.v, 6)
		num(it.Amount.fen, 2)
	}
	room(3)
	b = append(b, "end"...)
	h.Write(b)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], h.Sum(sum[:0]))
	return string(out[:])
}

// shortScaled writes v × 10^-scale in its shortest form, as
// appendScaled(b, v, scale, 0) does, at the end of buf and returns it.
func shortScaled(buf *[scaledLen]byte, v int64, scale int) []byte {
	return scaledDigits(buf, v, scale, 0)
}

// appendCount appends n ≥ 0 in decimal as strconv.AppendInt does, the
// counts below 100 (the fingerprint's lengths, nearly all) without its
// general path.
func appendCount(b []byte, n int) []byte {
	switch {
	case n < 0 || n >= 100:
		return strconv.AppendInt(b, int64(n), 10)
	case n < 10:
		return append(b, byte('0'+n))
	}
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func (c Claim) normalCrossRegion() CrossRegion {
	if c.CrossRegion == CrossRegionUnspecified {
		return CrossRegionLocal
	}
	return c.CrossRegion
}

// Decided is the claim as settled: with the cross_region the server
// decided from its records. An unspecified decision leaves the claim as it
// is.
func (c Claim) Decided(cr CrossRegion) Claim {
	if cr != CrossRegionUnspecified {
		c.CrossRegion = cr
	}
	return c
}

// SameRequest reports whether the claim is the request recorded with
// fingerprint fp, the Fingerprint of the claim as settled: the same claim
// by value, where an unspecified cross_region ("as the records say") is
// the same as whichever the server decided, and a given one must equal it.
func (c Claim) SameRequest(fp string) bool {
	if c.CrossRegion != CrossRegionUnspecified {
		return c.Fingerprint() == fp
	}
	for _, cr := range []CrossRegion{CrossRegionLocal, CrossRegionRegistered, CrossRegionUnregistered} {
		c.CrossRegion = cr
		if c.Fingerprint() == fp {
			return true
		}
	}
	return false
}
