package national

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// encodeStrings are strings encoding/json escapes in every way it does.
var encodeStrings = []string{"", "plain", "中文 结算", "q\"b\\s/", "\b\f\n\r\t\x00\x1f\x7f", "\u2028\u2029", "bad \xff\xfe utf-8",
	"<&>", "\xe2\x80", "✓ \U0001F600"}

// fill sets every field of v (a pointer to a struct) to a value of its
// own (the n-th tricky string, amount, ratio, number), so that a field an
// appender forgets or misspells shows in the comparison.
func fill(v reflect.Value, n *int) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		*n++
		switch f.Type() {
		case reflect.TypeFor[Amount]():
			f.Set(reflect.ValueOf(Amount(engine.MoneyFromFen(int64(*n*1234567 - 9876543)))))
		case reflect.TypeFor[Ratio]():
			f.Set(reflect.ValueOf(Ratio(engine.MustRatio([]string{"0", "0.85", "1", "0.125"}[*n%4]))))
		case reflect.TypeFor[json.Number]():
			f.Set(reflect.ValueOf(json.Number([]string{"0", "12.5", "-3", "1e3", "0.000001", ""}[*n%6])))
		default:
			switch f.Kind() {
			case reflect.String:
				f.SetString(encodeStrings[*n%len(encodeStrings)] + strings.Repeat("x", *n%3))
			case reflect.Int:
				f.SetInt(int64(*n))
			case reflect.Struct:
				fill(f, n)
			case reflect.Slice:
				s := reflect.MakeSlice(f.Type(), 3, 3)
				for j := range 3 {
					fill(s.Index(j), n)
				}
				f.Set(s)
			default:
				panic("fill: no value for " + f.Type().String())
			}
		}
	}
}

// encodeV1 is the answer as encoding/json writes it.
func encodeV1(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAppendJSONMatches: the hand-written answers are byte for byte
// encoding/json's, every field filled in turn with each tricky value.
func TestAppendJSONMatches(t *testing.T) {
	for round := range 12 {
		n := round
		var sa settleAnswer
		fill(reflect.ValueOf(&sa).Elem(), &n)
		var ua uploadAnswer
		fill(reflect.ValueOf(&ua).Elem(), &n)
		outputs := []any{sa, ua, settleAnswer{}, settleAnswer{Setldetail: []setlDetail{}}, uploadAnswer{}, nil,
			map[string]any{"result": map[string]string{"mdtrt_id": "V<1>"}}}
		for _, out := range outputs {
			r := Response{Infcode: "0", InfRefmsgid: "35050020261127090000" + encodeStrings[round%len(encodeStrings)],
				RefmsgTime: "20261127090000123", RespondTime: "20261127090000124", ErrMsg: encodeStrings[(round+3)%len(encodeStrings)],
				WarnMsg: encodeStrings[(round+5)%len(encodeStrings)], Output: out}
			got, ok := r.appendJSON(nil)
			if want := encodeV1(t, r); !ok || string(got) != want {
				t.Fatalf("round %d, %T:\ngot  %s\nwant %s", round, out, got, want)
			}
		}
	}
	// A json.Number encoding/json refuses is refused.
	bad := uploadAnswer{Result: []detailResult{{Cnt: "1.2.3"}}}
	if _, ok := (&Response{Output: bad}).appendJSON(nil); ok {
		t.Fatal("an invalid json.Number was written")
	}
	if _, err := json.Marshal(bad); err == nil {
		t.Fatal("encoding/json wrote an invalid json.Number")
	}
}

// FuzzAppendString: strings are written as encoding/json writes them.
func FuzzAppendString(f *testing.F) {
	for _, s := range encodeStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := encodeV1(t, s)
		if got := string(appendString(nil, s)) + "\n"; got != want {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}
