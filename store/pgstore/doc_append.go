package pgstore

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/internal/jsonquote"
)

// The stored documents of a settlement (claim, result, accumulators) are
// written without reflection: each stored struct appends itself to one
// buffer, byte for byte as json.Marshal writes it (field order, the
// omitempty fields, null for nil slices, maps and pointers, map keys
// sorted by their string form, json's string escaping with HTML escaping
// on, and the figures quoted in their MarshalText form).
// TestAppendDocsMatchMarshal compares them with json.Marshal on random
// values. Documents are still read with encoding/json. Adding a field to
// a stored struct means adding it here too, in struct order.

// appendDocString appends s as json.Marshal writes a string: quoted,
// with its escapes, HTML escaping on (jsonquote.Append).
func appendDocString(b []byte, s string) []byte { return jsonquote.Append(b, s, true) }

// appendDocInt appends an int as json.Marshal writes it.
func appendDocInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// appendDocBool appends a bool as json.Marshal writes it.
func appendDocBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// appendShortest drops the trailing zeros of the fraction of the figure
// at the end of b, appended with its scale's places (engine.AppendScaled,
// scale > 0), and the dot with them when none is left ("700.00" becomes
// "700", "12.50" "12.5"): the figure's shortest exact form, the engine
// types' MarshalText. b is left as it is unless its last byte but scale
// is the figure's dot.
func appendShortest(b []byte, scale int) []byte {
	dot := len(b) - 1 - scale
	if scale <= 0 || dot < 0 || b[dot] != '.' {
		return b
	}
	end := len(b)
	for end > dot+1 && b[end-1] == '0' {
		end--
	}
	if end == dot+1 {
		end = dot
	}
	return b[:end]
}

// appendDocMoney appends an amount as json.Marshal writes it: its
// MarshalText quoted ("700", "12.5", "-0.01").
func appendDocMoney(b []byte, m engine.Money) []byte {
	b = append(b, '"')
	b = appendShortest(m.AppendFixed(b), 2)
	return append(b, '"')
}

// appendDocMoneyPtr appends an optional amount as json.Marshal writes it:
// null when there is none.
func appendDocMoneyPtr(b []byte, m *engine.Money) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	return appendDocMoney(b, *m)
}

// appendDocRatio appends a ratio as json.Marshal writes it: its
// MarshalText quoted ("0.9", "1").
func appendDocRatio(b []byte, r engine.Ratio) []byte {
	b = append(b, '"')
	b = r.AppendString(b)
	return append(b, '"')
}

// appendDocQuantity appends a quantity as json.Marshal writes it: its
// MarshalText quoted ("2", "0.5").
func appendDocQuantity(b []byte, q engine.Quantity) []byte {
	b = append(b, '"')
	b = appendShortest(engine.AppendScaled(b, q.Scaled(), 4), 4)
	return append(b, '"')
}

// appendDocPrice appends a price as json.Marshal writes it: its
// MarshalText quoted ("35.5", "0.000001").
func appendDocPrice(b []byte, p engine.Price) []byte {
	b = append(b, '"')
	b = appendShortest(engine.AppendScaled(b, p.Scaled(), 6), 6)
	return append(b, '"')
}

// appendJSON appends the stored claim as json.Marshal writes it.
func (d *storedClaim) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if d.V != 0 {
		b = append(b, `"v":`...)
		b = appendDocInt(b, d.V)
		b = append(b, ',')
	}
	b = append(b, `"RequestID":`...)
	b = appendDocString(b, d.RequestID)
	b = append(b, `,"InstitutionID":`...)
	b = appendDocString(b, d.InstitutionID)
	b = append(b, `,"PersonID":`...)
	b = appendDocString(b, d.PersonID)
	b = append(b, `,"VisitType":`...)
	b = appendDocInt(b, d.VisitType)
	b = append(b, `,"SettleDate":`...)
	b = d.SettleDate.appendJSON(b)
	b = append(b, `,"CrossRegion":`...)
	b = appendDocInt(b, d.CrossRegion)
	b = append(b, `,"DRGCode":`...)
	b = appendDocString(b, d.DRGCode)
	b = append(b, `,"UsePersonalAccount":`...)
	b = appendDocBool(b, d.UsePersonalAccount)
	b = append(b, `,"Items":`...)
	b = appendDocArray(b, d.Items, (*storedLineItem).appendJSON)
	return append(b, '}')
}

// sizeHint is room enough for the stored claim's document in most cases,
// so that appending it allocates once.
func (d *storedClaim) sizeHint() int {
	n := 192 + len(d.RequestID) + len(d.InstitutionID) + len(d.PersonID) + len(d.DRGCode)
	for i := range d.Items {
		n += 96 + len(d.Items[i].Code) + len(d.Items[i].Name)
	}
	return n
}

// appendJSON appends a stored date as json.Marshal writes it.
func (d storedDate) appendJSON(b []byte) []byte {
	b = append(b, `{"Year":`...)
	b = appendDocInt(b, d.Year)
	b = append(b, `,"Month":`...)
	b = appendDocInt(b, d.Month)
	b = append(b, `,"Day":`...)
	b = appendDocInt(b, d.Day)
	return append(b, '}')
}

// appendJSON appends a stored line item as json.Marshal writes it.
func (d *storedLineItem) appendJSON(b []byte) []byte {
	b = append(b, `{"Code":`...)
	b = appendDocString(b, d.Code)
	b = append(b, `,"Name":`...)
	b = appendDocString(b, d.Name)
	b = append(b, `,"Quantity":`...)
	b = appendDocQuantity(b, d.Quantity)
	b = append(b, `,"UnitPrice":`...)
	b = appendDocPrice(b, d.UnitPrice)
	b = append(b, `,"Amount":`...)
	b = appendDocMoney(b, d.Amount)
	return append(b, '}')
}

// appendJSON appends the stored result as json.Marshal writes it.
func (d *storedResult) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if d.V != 0 {
		b = append(b, `"v":`...)
		b = appendDocInt(b, d.V)
		b = append(b, ',')
	}
	b = append(b, `"PolicyVersion":`...)
	b = appendDocString(b, d.PolicyVersion)
	b = append(b, `,"PolicyRegion":`...)
	b = appendDocString(b, d.PolicyRegion)
	b = append(b, `,"PolicyScheme":`...)
	b = appendDocInt(b, d.PolicyScheme)
	b = append(b, `,"CrossRegion":`...)
	b = appendDocInt(b, d.CrossRegion)
	b = append(b, `,"Breakdown":`...)
	b = d.Breakdown.appendJSON(b)
	b = append(b, `,"Details":`...)
	b = appendDocArray(b, d.Details, (*storedDetail).appendJSON)
	b = append(b, `,"Delta":`...)
	b = d.Delta.appendJSON(b)
	b = append(b, `,"Budget":`...)
	if d.Budget == nil {
		b = append(b, "null"...)
	} else {
		b = d.Budget.appendJSON(b)
	}
	b = append(b, `,"BudgetLimit":`...)
	b = appendDocMoneyPtr(b, d.BudgetLimit)
	b = append(b, `,"WarnRatio":`...)
	b = appendDocRatio(b, d.WarnRatio)
	if len(d.Layers) > 0 {
		b = append(b, `,"Layers":`...)
		b = appendDocArray(b, d.Layers, (*storedLayer).appendJSON)
	}
	if d.AccountBalance != nil {
		b = append(b, `,"AccountBalance":`...)
		b = appendDocMoney(b, *d.AccountBalance)
	}
	return append(b, '}')
}

// sizeHint is room enough for the stored result's document in most
// cases, so that appending it allocates once.
func (d *storedResult) sizeHint() int {
	n := 512 + len(d.PolicyVersion) + len(d.PolicyRegion) + 80*len(d.Details) + d.Delta.sizeHint()
	for i := range d.Layers {
		n += 200 + 40*len(d.Layers[i].Bands)
	}
	return n
}

// appendJSON appends a stored breakdown as json.Marshal writes it.
func (d *storedBreakdown) appendJSON(b []byte) []byte {
	b = append(b, `{"Total":`...)
	b = appendDocMoney(b, d.Total)
	b = append(b, `,"OutOfScope":`...)
	b = appendDocMoney(b, d.OutOfScope)
	b = append(b, `,"OverLimit":`...)
	b = appendDocMoney(b, d.OverLimit)
	b = append(b, `,"PreSelfPay":`...)
	b = appendDocMoney(b, d.PreSelfPay)
	b = append(b, `,"InScope":`...)
	b = appendDocMoney(b, d.InScope)
	b = append(b, `,"Deductible":`...)
	b = appendDocMoney(b, d.Deductible)
	b = append(b, `,"BasicFund":`...)
	b = appendDocMoney(b, d.BasicFund)
	b = append(b, `,"OverCap":`...)
	b = appendDocMoney(b, d.OverCap)
	b = append(b, `,"Catastrophic":`...)
	b = appendDocMoney(b, d.Catastrophic)
	b = append(b, `,"MedicalAid":`...)
	b = appendDocMoney(b, d.MedicalAid)
	b = append(b, `,"FundTotal":`...)
	b = appendDocMoney(b, d.FundTotal)
	b = append(b, `,"PersonalTotal":`...)
	b = appendDocMoney(b, d.PersonalTotal)
	b = append(b, `,"Account":`...)
	b = appendDocMoney(b, d.Account)
	b = append(b, `,"Cash":`...)
	b = appendDocMoney(b, d.Cash)
	return append(b, '}')
}

// appendJSON appends a stored detail line as json.Marshal writes it.
func (d *storedDetail) appendJSON(b []byte) []byte {
	b = append(b, `{"Fund":`...)
	b = appendDocInt(b, d.Fund)
	b = append(b, `,"Band":`...)
	b = appendDocInt(b, d.Band)
	b = append(b, `,"Ratio":`...)
	b = appendDocRatio(b, d.Ratio)
	b = append(b, `,"Base":`...)
	b = appendDocMoney(b, d.Base)
	b = append(b, `,"Amount":`...)
	b = appendDocMoney(b, d.Amount)
	return append(b, '}')
}

// appendJSON appends a stored budget status as json.Marshal writes it.
func (d *storedBudgetStatus) appendJSON(b []byte) []byte {
	b = append(b, `{"Year":`...)
	b = appendDocInt(b, d.Year)
	b = append(b, `,"Limit":`...)
	b = appendDocMoney(b, d.Limit)
	b = append(b, `,"Used":`...)
	b = appendDocMoney(b, d.Used)
	b = append(b, `,"State":`...)
	b = appendDocInt(b, d.State)
	return append(b, '}')
}

// appendJSON appends a stored layer as json.Marshal writes it.
func (d *storedLayer) appendJSON(b []byte) []byte {
	b = append(b, `{"Fund":`...)
	b = appendDocInt(b, d.Fund)
	b = append(b, `,"From":`...)
	b = appendDocMoney(b, d.From)
	b = append(b, `,"Base":`...)
	b = appendDocMoney(b, d.Base)
	b = append(b, `,"Threshold":`...)
	b = appendDocMoney(b, d.Threshold)
	b = append(b, `,"Bands":`...)
	b = appendDocArray(b, d.Bands, (*storedBand).appendJSON)
	b = append(b, `,"Cap":`...)
	b = appendDocMoneyPtr(b, d.Cap)
	b = append(b, `,"Room":`...)
	b = appendDocMoney(b, d.Room)
	b = append(b, `,"Raw":`...)
	b = appendDocMoney(b, d.Raw)
	b = append(b, `,"Paid":`...)
	b = appendDocMoney(b, d.Paid)
	b = append(b, `,"Ceiling":`...)
	b = appendDocMoneyPtr(b, d.Ceiling)
	b = append(b, `,"CeilingPaid":`...)
	b = appendDocMoney(b, d.CeilingPaid)
	return append(b, '}')
}

// appendJSON appends a stored band as json.Marshal writes it.
func (d *storedBand) appendJSON(b []byte) []byte {
	b = append(b, `{"UpTo":`...)
	b = appendDocMoneyPtr(b, d.UpTo)
	b = append(b, `,"Ratio":`...)
	b = appendDocRatio(b, d.Ratio)
	return append(b, '}')
}

// appendJSON appends stored accumulators as json.Marshal writes them.
func (d *storedAccumulators) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if d.V != 0 {
		b = append(b, `"v":`...)
		b = appendDocInt(b, d.V)
		b = append(b, ',')
	}
	b = append(b, `"PersonID":`...)
	b = appendDocString(b, d.PersonID)
	b = append(b, `,"Year":`...)
	b = appendDocInt(b, d.Year)
	b = append(b, `,"InpatientCount":`...)
	b = appendDocInt(b, d.InpatientCount)
	b = append(b, `,"VisitTypes":`...)
	b = appendDocVisits(b, d.VisitTypes)
	b = append(b, `,"PoolUsed":`...)
	b = appendDocPools(b, d.PoolUsed)
	b = append(b, `,"CatastrophicBase":`...)
	b = appendDocMoney(b, d.CatastrophicBase)
	b = append(b, `,"CatastrophicPaid":`...)
	b = appendDocMoney(b, d.CatastrophicPaid)
	b = append(b, `,"AidBase":`...)
	b = appendDocMoney(b, d.AidBase)
	b = append(b, `,"AidPaid":`...)
	b = appendDocMoney(b, d.AidPaid)
	b = append(b, `,"AidOutOfPocket":`...)
	b = appendDocMoney(b, d.AidOutOfPocket)
	return append(b, '}')
}

// sizeHint is room enough for the stored accumulators' document in most
// cases, so that appending it allocates once.
func (d *storedAccumulators) sizeHint() int {
	n := 256 + len(d.PersonID) + 64*len(d.VisitTypes)
	for k := range d.PoolUsed {
		n += 32 + len(k)
	}
	return n
}

// appendDocVisits appends the running totals of the visit types as
// json.Marshal writes the map: null when nil, else the keys as decimal
// strings in the order of those strings ("10" before "2").
func appendDocVisits(b []byte, m map[int]storedVisit) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var arr [8]int // visit types are few: the keys are sorted on the stack
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareDecimal)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = appendDocInt(b, k)
		b = append(b, `":`...)
		b = m[k].appendJSON(b)
	}
	return append(b, '}')
}

// compareDecimal compares two ints by their decimal strings, the order
// json.Marshal writes the keys of a map[int] in.
func compareDecimal(x, y int) int {
	var bx, by [20]byte
	return bytes.Compare(strconv.AppendInt(bx[:0], int64(x), 10), strconv.AppendInt(by[:0], int64(y), 10))
}

// appendDocPools appends the amounts used of the cap pools as
// json.Marshal writes the map: null when nil, else the keys in string
// order.
func appendDocPools(b []byte, m map[string]engine.Money) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var arr [8]string // pools are few: the keys are sorted on the stack
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendDocString(b, k)
		b = append(b, ':')
		b = appendDocMoney(b, m[k])
	}
	return append(b, '}')
}

// appendJSON appends the stored running totals of a visit type as
// json.Marshal writes them.
func (d storedVisit) appendJSON(b []byte) []byte {
	b = append(b, `{"InScope":`...)
	b = appendDocMoney(b, d.InScope)
	b = append(b, `,"DeductiblePaid":`...)
	b = appendDocMoney(b, d.DeductiblePaid)
	return append(b, '}')
}

// appendDocArray appends a slice of stored values as json.Marshal writes
// it: null when nil, else each value by appendJSON, in brackets.
func appendDocArray[T any](b []byte, xs []T, appendJSON func(*T, []byte) []byte) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(&xs[i], b)
	}
	return append(b, ']')
}
