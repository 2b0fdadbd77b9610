package pgstore

import (
	"fmt"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/medsettle/medsettle/engine"
)

// The engine's figures (engine.Money, Ratio, Quantity, Price, Points,
// PointValue) are fixed-point integers the engine keeps free of any
// driver. registerFigures teaches a connection's type map to send them as
// NUMERIC parameters and to scan NUMERIC columns into them, exactly: a
// figure goes out as its count of units with the type's exponent (never
// through a float), and a column comes back only if it is a whole number
// of the type's units that fits an int64; anything else (more decimals,
// NULL, NaN, an infinity, an overflow) is a scan error, never a rounding.
// Nullable columns scan into a pointer to a figure (nil for NULL).

// figureCodec maps one engine figure type to NUMERIC: its number of
// decimals, its count of units and its value of a count.
type figureCodec[T any] struct {
	name  string
	scale int32
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

// registerFigures adds the engine's figures to a connection's type map
// (pgxpool's AfterConnect). The wrappers go first, before pgx's own
// fallbacks (a fmt.Stringer sent as text, a struct as a composite).
func registerFigures(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapFigureEncode}, m.TryWrapEncodePlanFuncs...)
	m.TryWrapScanPlanFuncs = append([]pgtype.TryWrapScanPlanFunc{tryWrapFigureScan}, m.TryWrapScanPlanFuncs...)
}

func tryWrapFigureEncode(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch value.(type) {
	case engine.Money:
		return &figureEncodePlan[engine.Money]{c: moneyCodec}, pgtype.Numeric{}, true
	case engine.Ratio:
		return &figureEncodePlan[engine.Ratio]{c: ratioCodec}, pgtype.Numeric{}, true
	case engine.Quantity:
		return &figureEncodePlan[engine.Quantity]{c: quantityCodec}, pgtype.Numeric{}, true
	case engine.Price:
		return &figureEncodePlan[engine.Price]{c: priceCodec}, pgtype.Numeric{}, true
	case engine.Points:
		return &figureEncodePlan[engine.Points]{c: pointsCodec}, pgtype.Numeric{}, true
	case engine.PointValue:
		return &figureEncodePlan[engine.PointValue]{c: pointValueCodec}, pgtype.Numeric{}, true
	}
	return nil, nil, false
}

func tryWrapFigureScan(target any) (pgtype.WrappedScanPlanNextSetter, any, bool) {
	switch target.(type) {
	case *engine.Money:
		return &figureScanPlan[engine.Money]{c: moneyCodec}, new(pgtype.Numeric), true
	case *engine.Ratio:
		return &figureScanPlan[engine.Ratio]{c: ratioCodec}, new(pgtype.Numeric), true
	case *engine.Quantity:
		return &figureScanPlan[engine.Quantity]{c: quantityCodec}, new(pgtype.Numeric), true
	case *engine.Price:
		return &figureScanPlan[engine.Price]{c: priceCodec}, new(pgtype.Numeric), true
	case *engine.Points:
		return &figureScanPlan[engine.Points]{c: pointsCodec}, new(pgtype.Numeric), true
	case *engine.PointValue:
		return &figureScanPlan[engine.PointValue]{c: pointValueCodec}, new(pgtype.Numeric), true
	}
	return nil, nil, false
}

// figureEncodePlan sends a figure as the NUMERIC units × 10^-scale.
type figureEncodePlan[T any] struct {
	c    figureCodec[T]
	next pgtype.EncodePlan
}

func (p *figureEncodePlan[T]) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *figureEncodePlan[T]) Encode(value any, buf []byte) ([]byte, error) {
	n := pgtype.Numeric{Int: big.NewInt(p.c.units(value.(T))), Exp: -p.c.scale, Valid: true}
	return p.next.Encode(n, buf)
}

// figureScanPlan scans a NUMERIC into a figure, exactly.
type figureScanPlan[T any] struct {
	c    figureCodec[T]
	next pgtype.ScanPlan
}

func (p *figureScanPlan[T]) SetNext(next pgtype.ScanPlan) { p.next = next }

func (p *figureScanPlan[T]) Scan(src []byte, target any) error {
	var n pgtype.Numeric
	if err := p.next.Scan(src, &n); err != nil {
		return err
	}
	v, err := p.c.fromNumeric(n)
	if err != nil {
		return err
	}
	*target.(*T) = v
	return nil
}

// fromNumeric is the figure a NUMERIC holds: n.Int × 10^n.Exp as a whole
// number of 10^-scale units, or an error if it is not one.
func (c figureCodec[T]) fromNumeric(n pgtype.Numeric) (T, error) {
	var zero T
	switch {
	case !n.Valid:
		return zero, fmt.Errorf("cannot scan NULL into %s (scan into a pointer)", c.name)
	case n.NaN || n.InfinityModifier != pgtype.Finite || n.Int == nil:
		return zero, fmt.Errorf("cannot scan %s into %s", numericText(n), c.name)
	}
	shift := int64(n.Exp) + int64(c.scale) // units = Int × 10^shift
	if n.Int.IsInt64() && shift >= -18 && shift <= 18 {
		i := n.Int.Int64()
		if shift >= 0 {
			p := pow10(shift)
			if i > math.MaxInt64/p || i < math.MinInt64/p {
				return zero, fmt.Errorf("%s %s does not fit", c.name, numericText(n))
			}
			return c.of(i * p), nil
		}
		p := pow10(-shift)
		if i%p != 0 {
			return zero, fmt.Errorf("%s %s has more than %d decimals", c.name, numericText(n), c.scale)
		}
		return c.of(i / p), nil
	}
	// Rare: a long coefficient or a far exponent (trailing zeros).
	units := new(big.Int).Set(n.Int)
	if shift >= 0 {
		units.Mul(units, new(big.Int).Exp(big.NewInt(10), big.NewInt(shift), nil))
	} else {
		var rem big.Int
		units.QuoRem(units, new(big.Int).Exp(big.NewInt(10), big.NewInt(-shift), nil), &rem)
		if rem.Sign() != 0 {
			return zero, fmt.Errorf("%s %s has more than %d decimals", c.name, numericText(n), c.scale)
		}
	}
	if !units.IsInt64() {
		return zero, fmt.Errorf("%s %s does not fit", c.name, numericText(n))
	}
	return c.of(units.Int64()), nil
}

// pow10 is 10^k for 0 ≤ k ≤ 18.
func pow10(k int64) int64 {
	p := int64(1)
	for ; k > 0; k-- {
		p *= 10
	}
	return p
}

// numericText renders a NUMERIC for an error message.
func numericText(n pgtype.Numeric) string {
	b, err := n.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("%v×10^%d", n.Int, n.Exp)
	}
	return string(b)
}
