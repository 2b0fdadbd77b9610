package national

import (
	"strconv"
	"strings"
	"testing"
)

// TestFeeDetailsFastManyLines: lines read after their slice grew (past
// its first capacity, several times) keep their own values.
func TestFeeDetailsFastManyLines(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 16, 17, 40} {
		var b strings.Builder
		b.WriteString(`{"feedetail":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			k := strconv.Itoa(i)
			b.WriteString(`{"feedetl_sn":"SN` + k + `","mdtrt_id":"V` + k + `","cnt":` + k + `,"pric":"` + k + `.5 ","med_list_codg":null,"x":[` + k + `]}`)
		}
		b.WriteString(`]}`)
		checkFast(t, []byte(b.String()))
		lines, ok := feeDetailsFast([]byte(b.String()), 1000)
		if !ok || len(lines) != n {
			t.Fatalf("%d lines: read %d, %v", n, len(lines), ok)
		}
		for i, l := range lines {
			k := strconv.Itoa(i)
			if string(l.FeedetlSn) != "SN"+k || string(l.MdtrtID) != "V"+k || l.Cnt.Text != k || l.Pric.Text != k+".5" {
				t.Fatalf("%d lines, line %d: %+v", n, i, l)
			}
		}
	}
}
