package engine

import (
	"errors"
	"fmt"
	"sort"
)

// Accumulators are a person's running totals for one policy year. The same
// shape carries what one settlement added (its Delta), so that a reversal
// subtracts exactly that.
type Accumulators struct {
	PersonID       string
	Year           int
	InpatientCount int
	// VisitTypes holds the cumulative in-scope cost and deductible paid per visit type.
	VisitTypes map[VisitType]VisitAccumulator
	// PoolUsed is the basic fund paid this year per cap pool name.
	PoolUsed         map[string]Money
	CatastrophicBase Money
	CatastrophicPaid Money
	AidBase          Money
	// AidPaid is the regular (capped) medical aid; ceiling payments are not in it.
	AidPaid        Money
	AidOutOfPocket Money
}

// VisitAccumulator is the running in-scope cost of one visit type.
type VisitAccumulator struct {
	InScope        Money
	DeductiblePaid Money
}

// NewAccumulators returns all-zero accumulators for a person and year.
func NewAccumulators(personID string, year int) Accumulators {
	return Accumulators{PersonID: personID, Year: year}
}

// Visit returns the accumulator of one visit type (zero when none).
func (a Accumulators) Visit(v VisitType) VisitAccumulator {
	if va, ok := a.VisitTypes[v]; ok {
		return va
	}
	return VisitAccumulator{}
}

// Pool returns what a cap pool has paid this year (zero when nothing).
func (a Accumulators) Pool(name string) Money {
	return a.PoolUsed[name]
}

// Apply returns a + sign × d, sign being +1 (settle) or -1 (reverse). The
// receiver is not modified, and the result shares no map with it or with
// d. A's maps are copied whole (cloneMap) rather than entry by entry: a
// store applies a settlement's one visit type and one pool to maps that
// mostly hold them already, and iterating and rehashing every entry cost
// more than the rest of Apply.
func (a Accumulators) Apply(d Accumulators, sign int) Accumulators {
	out := a
	out.InpatientCount += sign * d.InpatientCount
	if a.VisitTypes != nil || len(d.VisitTypes) > 0 {
		out.VisitTypes = cloneMap(a.VisitTypes, len(d.VisitTypes))
	}
	for v, dv := range d.VisitTypes {
		cur := out.VisitTypes[v]
		cur.InScope = cur.InScope.addSigned(dv.InScope, sign)
		cur.DeductiblePaid = cur.DeductiblePaid.addSigned(dv.DeductiblePaid, sign)
		out.VisitTypes[v] = cur
		if cur.InScope.IsZero() && cur.DeductiblePaid.IsZero() {
			delete(out.VisitTypes, v) // canonical: absent means zero
		}
	}
	if a.PoolUsed != nil || len(d.PoolUsed) > 0 {
		out.PoolUsed = cloneMap(a.PoolUsed, len(d.PoolUsed))
	}
	for name, used := range d.PoolUsed {
		sum := out.PoolUsed[name].addSigned(used, sign)
		out.PoolUsed[name] = sum
		if sum.IsZero() {
			delete(out.PoolUsed, name)
		}
	}
	out.CatastrophicBase = out.CatastrophicBase.addSigned(d.CatastrophicBase, sign)
	out.CatastrophicPaid = out.CatastrophicPaid.addSigned(d.CatastrophicPaid, sign)
	out.AidBase = out.AidBase.addSigned(d.AidBase, sign)
	out.AidPaid = out.AidPaid.addSigned(d.AidPaid, sign)
	out.AidOutOfPocket = out.AidOutOfPocket.addSigned(d.AidOutOfPocket, sign)
	return out
}

// Clone returns a deep copy.
func (a Accumulators) Clone() Accumulators {
	out := a
	if a.VisitTypes != nil {
		out.VisitTypes = make(map[VisitType]VisitAccumulator, len(a.VisitTypes))
		for k, v := range a.VisitTypes {
			out.VisitTypes[k] = v
		}
	}
	if a.PoolUsed != nil {
		out.PoolUsed = make(map[string]Money, len(a.PoolUsed))
		for k, v := range a.PoolUsed {
			out.PoolUsed[k] = v
		}
	}
	return out
}

// Equal reports whether two accumulators hold the same values (decimals
// compared by value, absent map entries equal to zero).
func (a Accumulators) Equal(b Accumulators) bool {
	if a.PersonID != b.PersonID || a.Year != b.Year || a.InpatientCount != b.InpatientCount {
		return false
	}
	for _, v := range VisitTypes {
		x, y := a.Visit(v), b.Visit(v)
		if !x.InScope.Equal(y.InScope) || !x.DeductiblePaid.Equal(y.DeductiblePaid) {
			return false
		}
	}
	for _, name := range unionKeys(a.PoolUsed, b.PoolUsed) {
		if !a.Pool(name).Equal(b.Pool(name)) {
			return false
		}
	}
	return a.CatastrophicBase.Equal(b.CatastrophicBase) && a.CatastrophicPaid.Equal(b.CatastrophicPaid) &&
		a.AidBase.Equal(b.AidBase) && a.AidPaid.Equal(b.AidPaid) && a.AidOutOfPocket.Equal(b.AidOutOfPocket)
}

// PoolNames returns the cap pool names in sorted order.
func (a Accumulators) PoolNames() []string { return unionKeys(a.PoolUsed, nil) }

func unionKeys(a, b map[string]Money) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]Money{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// CheckAccumulators asserts what running totals always satisfy: none is
// negative. Returns an error wrapping ErrInvariant when one is.
func CheckAccumulators(a Accumulators) error {
	if a.InpatientCount < 0 {
		return fmt.Errorf("%w: accumulators of %q/%d: inpatient count %d is negative", ErrInvariant, a.PersonID, a.Year, a.InpatientCount)
	}
	neg := func(what string, v Money) error {
		if v.IsNegative() {
			return fmt.Errorf("%w: accumulators of %q/%d: %s %s is negative", ErrInvariant, a.PersonID, a.Year, what, v)
		}
		return nil
	}
	for v, va := range a.VisitTypes {
		if err := errors.Join(neg(fmt.Sprintf("visit type %d in_scope", v), va.InScope),
			neg(fmt.Sprintf("visit type %d deductible_paid", v), va.DeductiblePaid)); err != nil {
			return err
		}
	}
	for _, name := range a.PoolNames() {
		if err := neg("pool "+name, a.PoolUsed[name]); err != nil {
			return err
		}
	}
	return errors.Join(neg("catastrophic_base", a.CatastrophicBase), neg("catastrophic_paid", a.CatastrophicPaid),
		neg("aid_base", a.AidBase), neg("aid_paid", a.AidPaid), neg("aid_out_of_pocket", a.AidOutOfPocket))
}

// addSigned is m + sign × d, sign being +1 or −1.
func (m Money) addSigned(d Money, sign int) Money {
	if sign < 0 {
		return m.Sub(d)
	}
	return m.Add(d)
}
