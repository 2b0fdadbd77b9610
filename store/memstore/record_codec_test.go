package memstore

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// randomSettlement fills every field of a settlement at random, by
// reflection, so that a field added to engine.Settlement (or to what it
// holds) and forgotten by the codec fails the round trip. Slices, maps
// and pointers are sometimes nil, sometimes empty.
func randomSettlement(r *rand.Rand) engine.Settlement {
	var st engine.Settlement
	fillRandom(r, reflect.ValueOf(&st).Elem())
	return st
}

var (
	moneyType    = reflect.TypeFor[engine.Money]()
	ratioType    = reflect.TypeFor[engine.Ratio]()
	quantityType = reflect.TypeFor[engine.Quantity]()
	priceType    = reflect.TypeFor[engine.Price]()
)

func randomInt64(r *rand.Rand) int64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return math.MaxInt64
	case 2:
		return math.MinInt64
	case 3:
		return r.Int64N(200) - 100
	default:
		return int64(r.Uint64())
	}
}

func randomString(r *rand.Rand) string {
	const alphabet = "aZ09-_ 医保结算\x00\xff"
	runes := []rune(alphabet)
	n := r.IntN(4)
	if r.IntN(8) == 0 {
		n = 200 + r.IntN(300)
	}
	out := make([]rune, n)
	for i := range out {
		out[i] = runes[r.IntN(len(runes))]
	}
	return string(out)
}

func fillRandom(r *rand.Rand, v reflect.Value) {
	switch v.Type() {
	case moneyType:
		v.Set(reflect.ValueOf(engine.MoneyFromFen(randomInt64(r))))
		return
	case ratioType:
		v.Set(reflect.ValueOf(engine.RatioFromScaled(randomInt64(r))))
		return
	case quantityType:
		v.Set(reflect.ValueOf(engine.QuantityFromScaled(randomInt64(r))))
		return
	case priceType:
		v.Set(reflect.ValueOf(engine.PriceFromScaled(randomInt64(r))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int, reflect.Int64:
		v.SetInt(randomInt64(r))
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				panic("randomSettlement: unexported field " + v.Type().String() + "." + v.Type().Field(i).Name)
			}
			fillRandom(r, v.Field(i))
		}
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fillRandom(r, p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		switch k := r.IntN(4); k {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := r.IntN(25)
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fillRandom(r, v.Index(i))
			}
		}
	case reflect.Map:
		switch k := r.IntN(4); k {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range r.IntN(6) {
				key := reflect.New(v.Type().Key()).Elem()
				fillRandom(r, key)
				val := reflect.New(v.Type().Elem()).Elem()
				fillRandom(r, val)
				m.SetMapIndex(key, val)
			}
			v.Set(m)
		}
	default:
		panic("randomSettlement: no filler for " + v.Type().String())
	}
}

// recordSummary is what a recordView holds, as values.
type recordSummary struct {
	ID, RequestID, InstitutionID, DRGCode, PolicyRegion string
	State                                               engine.SettlementState
	VisitType                                           engine.VisitType
	SettleDate                                          engine.Date
	PolicyScheme                                        engine.Scheme
	Breakdown                                           engine.Breakdown
}

func summary(st engine.Settlement) recordSummary {
	return recordSummary{st.ID, st.Claim.RequestID, st.Claim.InstitutionID, st.Claim.DRGCode, st.Result.PolicyRegion,
		st.State, st.Claim.VisitType, st.Claim.SettleDate, st.Result.PolicyScheme, st.Result.Breakdown}
}

func viewed(rec []byte, v recordView) recordSummary {
	hdr := string(rec[:v.headerEnd])
	return recordSummary{v.id.of(hdr), v.requestID.of(hdr), v.institutionID.of(hdr), v.drgCode.of(hdr), v.policyRegion.of(hdr),
		v.state, v.visitType, v.settleDate, v.policyScheme, v.breakdown}
}

func TestRecordRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 5))
	for i := range 20000 {
		st := randomSettlement(r)
		rec := appendRecord(nil, &st)
		got, err := decodeRecord(rec)
		if err != nil {
			t.Fatalf("settlement %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Fatalf("settlement %d: decoded\n%#v\nwant\n%#v", i, got, st)
		}
		v, err := viewRecord(rec)
		if err != nil {
			t.Fatalf("settlement %d: view: %v", i, err)
		}
		if got := viewed(rec, v); !reflect.DeepEqual(got, summary(st)) {
			t.Fatalf("settlement %d: view\n%#v\nwant\n%#v", i, got, summary(st))
		}
		if id := string(recordID(rec)); id != st.ID {
			t.Fatalf("settlement %d: recordID %q, want %q", i, id, st.ID)
		}
		fp, in, req := recordKey(rec)
		if string(fp) != st.Fingerprint || string(in) != st.Claim.InstitutionID || string(req) != st.Claim.RequestID {
			t.Fatalf("settlement %d: recordKey %q %q %q", i, fp, in, req)
		}
		// Settle writes the prefix and the body apart.
		split := appendRecordBody(appendRecordPrefix(nil, st.ID, st.Result.Budget), &st)
		if string(split) != string(rec) {
			t.Fatalf("settlement %d: prefix and body differ from the whole record", i)
		}
	}
}

// TestRecordCutShort decodes every proper prefix of records: each is an
// ErrInvariant, never a panic or a wrong settlement; a view of one is
// refused or reads the record's own header.
func TestRecordCutShort(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 7))
	for i := range 200 {
		st := randomSettlement(r)
		rec := appendRecord(nil, &st)
		for n := range len(rec) {
			if _, err := decodeRecord(rec[:n]); !errors.Is(err, engine.ErrInvariant) {
				t.Fatalf("settlement %d cut at %d of %d: %v, want ErrInvariant", i, n, len(rec), err)
			}
			v, err := viewRecord(rec[:n])
			if err == nil && !reflect.DeepEqual(viewed(rec, v), summary(st)) {
				t.Fatalf("settlement %d cut at %d of %d: view %#v", i, n, len(rec), viewed(rec, v))
			} else if err != nil && !errors.Is(err, engine.ErrInvariant) {
				t.Fatalf("settlement %d cut at %d of %d: view: %v", i, n, len(rec), err)
			}
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		st := randomSettlement(r)
		f.Add(appendRecord(nil, &st))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		st, err := decodeRecord(rec)
		if err != nil {
			return
		}
		// What decodes encodes back to the same bytes, unless a map's
		// keys came in another order or repeated (then it decodes to
		// the same settlement).
		again, err := decodeRecord(appendRecord(nil, &st))
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("re-encoded %#v: %#v, %v", st, again, err)
		}
		viewRecord(rec)
		recordKey(rec)
		recordID(rec)
	})
}
