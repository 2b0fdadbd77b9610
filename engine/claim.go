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
	// it has always been written (with fmt), built in one buffer.
	size := 64 + len(c.RequestID) + len(c.InstitutionID) + len(c.PersonID) + len(c.DRGCode)
	for i := range c.Items {
		size += 80 + len(c.Items[i].Code) + len(c.Items[i].Name)
	}
	b := make([]byte, 0, size)
	field := func(b []byte, s string) []byte {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		return append(b, ';')
	}
	num := func(b []byte, v int64, scale int) []byte {
		var buf [32]byte
		digits := appendScaled(buf[:0], v, scale, 0) // the shortest form
		b = strconv.AppendInt(b, int64(len(digits)), 10)
		b = append(b, ':')
		b = append(b, digits...)
		return append(b, ';')
	}
	b = field(b, c.RequestID)
	b = field(b, c.InstitutionID)
	b = field(b, c.PersonID)
	b = strconv.AppendInt(b, int64(c.VisitType), 10)
	b = append(b, ';')
	b = c.SettleDate.appendTo(b)
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(c.normalCrossRegion()), 10)
	b = append(b, ';')
	b = strconv.AppendBool(b, c.UsePersonalAccount)
	b = append(b, ';')
	b = field(b, c.DRGCode)
	b = strconv.AppendInt(b, int64(len(c.Items)), 10)
	b = append(b, ';')
	for _, it := range c.Items {
		b = field(b, it.Code)
		b = field(b, it.Name)
		b = num(b, it.Quantity.v, 4)
		b = num(b, it.UnitPrice.v, 6)
		b = num(b, it.Amount.fen, 2)
	}
	b = append(b, "end"...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
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
