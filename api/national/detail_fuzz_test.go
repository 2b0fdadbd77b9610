package national

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// FuzzUploadDetails: any 2204 input is refused with a message of at most
// 200 characters and nothing stored, or stored whole: every line it
// answers is live afterwards with the amount it answered, and the
// answer's parts add up to each line's amount.
func FuzzUploadDetails(f *testing.F) {
	const id = "@ID@"
	for _, seed := range []string{
		upload(feeLine(id, "P1", "1", "A1", "3", "12", "36.00")),
		upload(feeLine(id, "P1", "1", "B1", `"2.5"`, `"4.123456"`, `"10.31"`), feeLine(id, "P1", "2", "ZZ", "1", "0", "0")),
		upload(feeLine(id, "P1", "1", "A1", "-3", "12", "36")),
		upload(feeLine(id, "P1", "1", "A1", "1e3", "1", "1000")),
		upload(feeLine(id, "P2", "1", "A1", "1", "1", "1"), `null`, `[]`),
		`{"feedetail":{}}`, `{"feedetail":null}`, `"x"`, `{"feedetail":[{"feedetl_sn":1,"mdtrt_id":"@ID@"}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		fx := newFixture(t)
		vid := fx.open()
		input = strings.ReplaceAll(input, id, vid)
		before := fx.state(vid)
		out, err := fx.call("H1", "2204", input)
		var r *Refusal
		if err != nil {
			if !errors.As(err, &r) {
				t.Fatalf("%q: not a refusal: %v", input, err)
			}
			if n := len([]rune(r.Msg)); n > maxErrMsg || n == 0 {
				t.Fatalf("%q: refusal of %d characters: %q", input, n, r.Msg)
			}
			if after := fx.state(vid); !reflect.DeepEqual(before, after) {
				t.Fatalf("%q: refused, yet the visit changed", input)
			}
			return
		}
		b, _ := json.Marshal(out)
		var answer struct {
			Result []struct {
				SN string `json:"feedetl_sn"`
			} `json:"result"`
		}
		if err := json.Unmarshal(b, &answer); err != nil {
			t.Fatalf("answer %s: %v", b, err)
		}
		live, err := fx.st.FeeDetails(context.Background(), vid, "")
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, d := range live {
			have[d.SN] = true
		}
		for _, l := range answer.Result {
			if !have[l.SN] {
				t.Fatalf("%q: answered line %q is not live", input, l.SN)
			}
		}
		for _, l := range out.(uploadAnswer).Result {
			sum := engine.Money(l.FulamtOwnpayAmt).Add(engine.Money(l.OverlmtAmt)).Add(engine.Money(l.PreselfpayAmt)).Add(engine.Money(l.InscpScpAmt))
			if !sum.Equal(engine.Money(l.DetItemFeeSumamt)) {
				t.Fatalf("%q: line %q's parts add up to %v, not %v", input, l.FeedetlSn, sum, l.DetItemFeeSumamt)
			}
		}
	})
}
