package national

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzReadFeeDetails: the one-pass read of an upload answers what reading
// it line by line answers (lines, which could be read, the refusal).
func FuzzReadFeeDetails(f *testing.F) {
	for _, s := range []string{`{"feedetail":[{"feedetl_sn":"1","cnt":2,"pric":"1.5"}]}`, `{"feedetail":[null,{}]}`,
		`{"feedetail":[{"cnt":true},{"feedetl_sn":"2"}]}`, `{"feedetail":[]}`, `null`, `{"feedetail":{}}`, `[]`, `{"feedetail":[1,"x"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // the envelope's input is always valid JSON
		}
		lines, decoded, err := readFeeDetails(b)
		wantLines, wantDecoded, wantErr := readFeeDetailsByLine(b)
		if !reflect.DeepEqual(lines, wantLines) || !reflect.DeepEqual(decoded, wantDecoded) || !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("%s: read %+v %v %v; line by line %+v %v %v", b, lines, decoded, err, wantLines, wantDecoded, wantErr)
		}
	})
}
