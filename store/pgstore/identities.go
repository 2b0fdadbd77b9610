package pgstore

import (
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// The identities column (migration 0009) holds a person's identities as a
// flat integer array of triples: the category code (engine.Category's
// value, as the category column), valid_from and valid_to as YYYYMMDD.

// encodeIdentities is the column's value for ids: never nil, since the
// column is NOT NULL.
func encodeIdentities(ids []engine.Identity) []int32 {
	out := make([]int32, 0, 3*len(ids))
	for _, id := range ids {
		out = append(out, int32(id.Category), dateInt(id.ValidFrom), dateInt(id.ValidTo))
	}
	return out
}

// decodeIdentities reads the column; nil for none. A value that is not
// whole triples of a known category and real dates wraps
// engine.ErrInvariant.
func decodeIdentities(raw []int32) ([]engine.Identity, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if len(raw)%3 != 0 {
		return nil, fmt.Errorf("%w: stored identities have %d numbers, not whole triples", engine.ErrInvariant, len(raw))
	}
	out := make([]engine.Identity, len(raw)/3)
	for i := range out {
		c, from, to := raw[3*i], raw[3*i+1], raw[3*i+2]
		if c < int32(engine.CategoryDestitute) || c > int32(engine.CategoryPovertyAlleviated) {
			return nil, fmt.Errorf("%w: stored identity %d has category code %d", engine.ErrInvariant, i, c)
		}
		f, okF := intDate(from)
		t, okT := intDate(to)
		if !okF || !okT {
			return nil, fmt.Errorf("%w: stored identity %d has dates %d and %d, not YYYYMMDD", engine.ErrInvariant, i, from, to)
		}
		out[i] = engine.Identity{Category: engine.Category(c), ValidFrom: f, ValidTo: t}
	}
	return out, nil
}

// dateInt is d as YYYYMMDD.
func dateInt(d engine.Date) int32 {
	return int32(d.Year*10000 + int(d.Month)*100 + d.Day)
}

// intDate reads YYYYMMDD, refusing a date that does not exist.
func intDate(v int32) (engine.Date, bool) {
	d := engine.Date{Year: int(v / 10000), Month: time.Month(v / 100 % 100), Day: int(v % 100)}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	if v <= 0 || t.Year() != d.Year || t.Month() != d.Month || t.Day() != d.Day {
		return engine.Date{}, false
	}
	return d, true
}
