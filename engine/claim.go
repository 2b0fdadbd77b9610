package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(c.RequestID)
	field(c.InstitutionID)
	field(c.PersonID)
	fmt.Fprintf(h, "%d;%s;%d;%t;", c.VisitType, c.SettleDate, c.normalCrossRegion(), c.UsePersonalAccount)
	field(c.DRGCode)
	fmt.Fprintf(h, "%d;", len(c.Items))
	for _, it := range c.Items {
		field(it.Code)
		field(it.Name)
		field(it.Quantity.String())
		field(it.UnitPrice.String())
		field(formatScaled(it.Amount.fen, 2, 0)) // the shortest form, as always
	}
	_, _ = io.WriteString(h, "end")
	return hex.EncodeToString(h.Sum(nil))
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
