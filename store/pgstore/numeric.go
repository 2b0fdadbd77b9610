package pgstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/medsettle/medsettle/engine"
)

// The engine's figures (engine.Money, Ratio, Quantity, Price, Points,
// PointValue) are fixed-point integers the engine keeps free of any
// driver. registerFigures teaches a connection's type map to send them as
// NUMERIC parameters and to scan NUMERIC columns into them, exactly and
// without allocating: a figure goes out as its count of units with the
// type's number of decimals (never through a float or math/big), and a
// column comes back only if it is a whole number of the type's units that
// fits an int64; anything else (more decimals, NULL, NaN, an infinity, an
// overflow) is a scan error, never a rounding. Nullable columns scan into
// a pointer to a figure (nil for NULL).

// figureCodec maps one engine figure type to NUMERIC: its number of
// decimals, its count of units and its value of a count.
type figureCodec[T any] struct {
	name  string
	scale int
	units func(T) int64
	of    func(int64) T
}

var (
	moneyCodec      = figureCodec[engine.Money]{"money", 2, engine.Money.Fen, engine.MoneyFromFen}
	ratioCodec      = figureCodec[engine.Ratio]{"ratio", 4, engine.Ratio.Scaled, engine.RatioFromScaled}
	quantityCodec   = figureCodec[engine.Quantity]{"quantity", 4, engine.Quantity.Scaled, engine.QuantityFromScaled}
	priceCodec      = figureCodec[engine.Price]{"price", 6, engine.Price.Scaled, engine.PriceFromScaled}
	pointsCodec     = figureCodec[engine.Points]{"points", 4, engine.Points.Scaled, engine.PointsFromScaled}
	pointValueCodec = figureCodec[engine.PointValue]{"point value", 6, engine.PointValue.Scaled, engine.PointValueFromScaled}
)

// figurePlans are the encode and scan plans of one figure type, made once
// (a plan made for every query would be an allocation every time: pgx
// plans a scan for every row set), indexed by binary (1) or text (0).
type figurePlans struct {
	encode [2]pgtype.EncodePlan
	scan   [2]pgtype.ScanPlan
}

func newFigurePlans[T any](c figureCodec[T]) *figurePlans {
	return &figurePlans{
		encode: [2]pgtype.EncodePlan{&figureEncoder[T]{c, false}, &figureEncoder[T]{c, true}},
		scan:   [2]pgtype.ScanPlan{&figureScanner[T]{c, false}, &figureScanner[T]{c, true}},
	}
}

var (
	moneyPlans      = newFigurePlans(moneyCodec)
	ratioPlans      = newFigurePlans(ratioCodec)
	quantityPlans   = newFigurePlans(quantityCodec)
	pricePlans      = newFigurePlans(priceCodec)
	pointsPlans     = newFigurePlans(pointsCodec)
	pointValuePlans = newFigurePlans(pointValueCodec)
)

// registerFigures makes numericCodec a type map's numeric type, and
// NUMERIC the type of a figure sent where the server names no type (the
// simple protocol). Call it from pgxpool's AfterConnect.
func registerFigures(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: numericCodec{}})
	for _, v := range []any{engine.Money{}, engine.Ratio{}, engine.Quantity{}, engine.Price{}, engine.Points{}, engine.PointValue{}} {
		m.RegisterDefaultPgType(v, "numeric")
	}
}

// numericCodec is pgx's NumericCodec with the engine's figures added;
// every other Go type is left to pgx.
type numericCodec struct{ pgtype.NumericCodec }

// formatIndex is 1 for the binary format, 0 for text.
func formatIndex(format int16) int {
	if format == pgtype.BinaryFormatCode {
		return 1
	}
	return 0
}

// PlanEncode encodes a figure itself, anything else as pgx does.
func (c numericCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	var p *figurePlans
	switch value.(type) {
	case engine.Money:
		p = moneyPlans
	case engine.Ratio:
		p = ratioPlans
	case engine.Quantity:
		p = quantityPlans
	case engine.Price:
		p = pricePlans
	case engine.Points:
		p = pointsPlans
	case engine.PointValue:
		p = pointValuePlans
	default:
		return c.NumericCodec.PlanEncode(m, oid, format, value)
	}
	return p.encode[formatIndex(format)]
}

// PlanScan scans into a figure itself, anything else as pgx does.
func (c numericCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	var p *figurePlans
	switch target.(type) {
	case *engine.Money:
		p = moneyPlans
	case *engine.Ratio:
		p = ratioPlans
	case *engine.Quantity:
		p = quantityPlans
	case *engine.Price:
		p = pricePlans
	case *engine.Points:
		p = pointsPlans
	case *engine.PointValue:
		p = pointValuePlans
	default:
		return c.NumericCodec.PlanScan(m, oid, format, target)
	}
	return p.scan[formatIndex(format)]
}

// figureEncoder writes a figure as a NUMERIC in the binary or text format.
type figureEncoder[T any] struct {
	c      figureCodec[T]
	binary bool
}

// Encode writes the figure in value to buf in PostgreSQL's NUMERIC format.
func (p *figureEncoder[T]) Encode(value any, buf []byte) ([]byte, error) {
	u := p.c.units(value.(T))
	if p.binary {
		return appendNumericBinary(buf, u, p.c.scale), nil
	}
	return engine.AppendScaled(buf, u, p.c.scale), nil
}

// figureScanner reads a NUMERIC of the binary or text format into a figure.
type figureScanner[T any] struct {
	c      figureCodec[T]
	binary bool
}

// Scan reads a NUMERIC from src into target, exactly or not at all.
func (p *figureScanner[T]) Scan(src []byte, target any) error {
	if src == nil {
		return fmt.Errorf("cannot scan NULL into %s (scan into a pointer)", p.c.name)
	}
	var u int64
	var err error
	if p.binary {
		u, err = numericBinaryUnits(src, p.c.scale)
	} else {
		u, err = numericTextUnits(src, p.c.scale)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.c.name, err)
	}
	*target.(*T) = p.c.of(u)
	return nil
}

// The signs of PostgreSQL's binary NUMERIC; others (NaN, ±Infinity) are
// not figures.
const (
	numericPositive = 0x0000
	numericNegative = 0x4000
)

// Errors of a NUMERIC that is not a figure of the type scanned into.
var (
	errNotANumber    = errors.New("NUMERIC is NaN or infinite")
	errTooManyPlaces = errors.New("NUMERIC has more decimals than the type")
	errOverflow      = errors.New("NUMERIC does not fit an int64 of the type's units")
	errMalformed     = errors.New("malformed NUMERIC")
)

// appendNumericBinary appends units × 10^-scale in PostgreSQL's binary
// NUMERIC format: ndigits, weight, sign, dscale (int16 each), then the
// base-10000 digits, most significant first, weight being the power of
// 10000 of the first. Leading and trailing zero digits are left out, as
// PostgreSQL writes them; dscale is scale.
func appendNumericBinary(buf []byte, units int64, scale int) []byte {
	u := uint64(units)
	sign := uint16(numericPositive)
	if units < 0 {
		u = -u // two's complement: exact for math.MinInt64 too
		sign = numericNegative
	}
	p := uint64(pow10(scale))
	ip, frac := u/p, u%p
	fracGroups := (scale + 3) / 4
	frac *= uint64(pow10(4*fracGroups - scale)) // aligned on base-10000 digits
	// An int64 has at most 19 digits: 5 integer and 2 fraction groups.
	var digits [8]uint16
	var intGroups [5]uint16
	n := 0
	for ; ip > 0; ip /= 10000 {
		intGroups[n] = uint16(ip % 10000)
		n++
	}
	nd := 0
	for i := n - 1; i >= 0; i-- {
		digits[nd] = intGroups[i]
		nd++
	}
	for g := fracGroups - 1; g >= 0; g-- {
		digits[nd] = uint16(frac / uint64(pow10(4*g)) % 10000)
		nd++
	}
	weight := n - 1
	start := 0
	for start < nd && digits[start] == 0 {
		start++
		weight--
	}
	for nd > start && digits[nd-1] == 0 {
		nd--
	}
	if start == nd { // zero
		weight, sign = 0, numericPositive
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(nd-start))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(scale))
	for _, d := range digits[start:nd] {
		buf = binary.BigEndian.AppendUint16(buf, d)
	}
	return buf
}

// numericBinaryUnits reads a binary NUMERIC as a whole number of
// 10^-scale units.
func numericBinaryUnits(src []byte, scale int) (int64, error) {
	if len(src) < 8 {
		return 0, errMalformed
	}
	ndigits := int(binary.BigEndian.Uint16(src))
	weight := int(int16(binary.BigEndian.Uint16(src[2:])))
	neg := false
	switch binary.BigEndian.Uint16(src[4:]) {
	case numericPositive:
	case numericNegative:
		neg = true
	default:
		return 0, errNotANumber
	}
	if len(src) != 8+2*ndigits {
		return 0, errMalformed
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // |math.MinInt64|
	}
	var mag uint64
	for i := 0; i < ndigits; i++ {
		d := uint64(binary.BigEndian.Uint16(src[8+2*i:]))
		if d >= 10000 {
			return 0, errMalformed
		}
		if d == 0 {
			continue
		}
		e := 4*(weight-i) + scale // this digit is d × 10^e units
		if e < 0 {
			if e < -4 {
				return 0, errTooManyPlaces // d < 10^4 ≤ 10^-e
			}
			q := uint64(pow10(-e))
			if d%q != 0 {
				return 0, errTooManyPlaces
			}
			d, e = d/q, 0
		}
		if e > 18 {
			return 0, errOverflow
		}
		q := uint64(pow10(e))
		if d > limit/q {
			return 0, errOverflow
		}
		if v := d * q; mag > limit-v {
			return 0, errOverflow
		} else {
			mag += v
		}
	}
	if neg {
		return int64(-mag), nil // two's complement: exact for 2^63
	}
	return int64(mag), nil
}

// numericTextUnits reads a NUMERIC in the text format ("-12.3400") as a
// whole number of 10^-scale units; decimals beyond scale must be zeros.
func numericTextUnits(src []byte, scale int) (int64, error) {
	s := src
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 || s[0] == 'N' || s[0] == 'I' {
		if len(s) > 0 {
			return 0, errNotANumber
		}
		return 0, errMalformed
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var mag uint64
	digit := func(c byte) error {
		if c < '0' || c > '9' {
			return errMalformed
		}
		d := uint64(c - '0')
		if mag > (limit-d)/10 {
			return errOverflow
		}
		mag = mag*10 + d
		return nil
	}
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		if err := digit(s[i]); err != nil {
			return 0, err
		}
	}
	if i == 0 {
		return 0, errMalformed
	}
	if i < len(s) { // the point
		i++
		if i == len(s) {
			return 0, errMalformed
		}
	}
	for places := 0; places < scale; places++ {
		c := byte('0')
		if i < len(s) {
			c = s[i]
			i++
		}
		if err := digit(c); err != nil {
			return 0, err
		}
	}
	for ; i < len(s); i++ {
		switch {
		case s[i] == '0':
		case s[i] >= '1' && s[i] <= '9':
			return 0, errTooManyPlaces
		default:
			return 0, errMalformed
		}
	}
	if neg {
		return int64(-mag), nil
	}
	return int64(mag), nil
}

// pow10s holds 10^0 … 10^18.
var pow10s = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// pow10 is 10^k for 0 ≤ k ≤ 18.
func pow10(k int) int64 { return pow10s[k] }
