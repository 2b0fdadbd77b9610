package national

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// fastSeeds are bodies the fast readers read (or give up on) in every
// way that matters: escapes, case-folded and unknown keys, null, numbers
// as strings, nesting, duplicates, syntax errors, trailing data.
var fastSeeds = []string{
	envelope("2304", "M1", "H61030000001", `{"data":{"psn_no":"P1","medfee_sumamt":12.50,"mdtrt_id":"V1","psn_setlway":"01"}}`),
	envelope("2301", "M2", "H61030000001", `{"feedetail":[{"feedetl_sn":"1","mdtrt_id":"V1","psn_no":"P1","cnt":2,"pric":"3.5","det_item_fee_sumamt":"7.00","fee_ocur_time":"2025-03-04 09:00:00","hosp_appr_flag":"1"}]}`),
	`{"infno":"2301","msgid":"M\u00e9","input":{"feedetail":[{"feedetl_sn":1,"cnt":-0.5e3,"pric":null,"x":{"y":[1,2,{"z":"\"\\\/\b\f\n\r\t"}]}}]}}`,
	`{"INFNO":"2301","msgid":"M1","input":{}}`,
	`{"infno":"2301","msgid":"M1","Input":{}}`,
	`{"infno":"2301","inf\u006eo":"2302"}`,
	`{"infno":"2301","infno":"2302","msgid":null}`,
	`{"infno":2301}`,
	`{"infno":"2301",}`,
	`{"infno":"2301"} x`,
	`{"infno":"2301"}  `,
	` {"infno" : "2301" , "input" : null } `,
	`[1]`, `null`, `"x"`, `{`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":"\u12"}`,
	"{\"a\":\"\x01\"}", "{\"infno\":\"\xff\"}", "{\"\xc5\xbfign_no\":\"1\"}", `{"ſign_no":"1"}`, `{"KEY":1,"K":2}`,
	`{"data":{"psn_no":"P1","expContent":{"drg_code":"A1"},"exp_content":"{\"drg_code\":\"B\"}","medfee_sumamt":"1.5"}}`,
	`{"data":null}`, `{"data":{}, "data":{"psn_no":"P2"}}`, `{"data":"x"}`, `{"data":{"medfee_sumamt":true}}`,
	`{"data":{"MEDFEE_SUMAMT":"1"}}`, `{"data":{"expcontent":{}}}`, `{"data":{"psn_no":{"a":1}}}`, `{"data":{"psn_no":[1]}}`,
	`{"feedetail":[]}`, `{"feedetail":null}`, `{"feedetail":[null]}`, `{"feedetail":[{}],"feedetail":[{}]}`,
	`{"feedetail":[{"feedetl_sn":"1"},{"feedetl_sn":"2","cnt":"x"}]}`, `{"feedetail":[{"Cnt":1}]}`, `{"feedetail":{}}`,
	`{"feedetail":[{"feedetl_sn":"1","cnt":null}]}`, `{"feedetail":[{"feedetl_sn":"a\u0000b"}]}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
}

// TestFastDecodeMatches: whatever the fast readers read, encoding/json
// reads the same way.
func TestFastDecodeMatches(t *testing.T) {
	for _, s := range fastSeeds {
		checkFast(t, []byte(s))
	}
	// The common bodies are read fast.
	var env Envelope
	var in settleInput
	if !env.decodeFast([]byte(fastSeeds[0])) || !in.decodeFast(env.Input) || in.Data.MedfeeSumamt.Text != "12.50" {
		t.Fatalf("2304 not read fast: %+v %+v", env, in.Data)
	}
	if !env.decodeFast([]byte(fastSeeds[1])) {
		t.Fatal("2301 envelope not read fast")
	}
	if lines, ok := feeDetailsFast(env.Input, 1000); !ok || len(lines) != 1 || lines[0].Cnt.Text != "2" || lines[0].Pric.Text != "3.5" {
		t.Fatalf("2301 lines not read fast: %+v", lines)
	}
	// A line too many gives up (readFeeDetailsByLine refuses it).
	if _, ok := feeDetailsFast([]byte(`{"feedetail":[{},{},{}]}`), 2); ok {
		t.Fatal("3 lines read with a limit of 2")
	}
	if lines, ok := feeDetailsFast([]byte(`{"feedetail":[{},{}]}`), 2); !ok || len(lines) != 2 {
		t.Fatalf("2 lines with a limit of 2: %v %v", lines, ok)
	}
}

// FuzzFastDecode: the fast readers never read a body otherwise than
// encoding/json does.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFast(t, b) })
}

// checkFast reads b with each fast reader and, when it reads it, with
// encoding/json, which must agree.
func checkFast(t *testing.T, b []byte) {
	t.Helper()
	var fe Envelope
	if fe.decodeFast(b) {
		var je Envelope
		if err := json.Unmarshal(b, &je); err != nil {
			t.Fatalf("envelope %q: fast read it, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(fe, je) {
			t.Fatalf("envelope %q:\nfast %+v\njson %+v", b, fe, je)
		}
	} else if !reflect.DeepEqual(fe, Envelope{}) {
		t.Fatalf("envelope %q: gave up but left %+v", b, fe)
	}
	var fs settleInput
	if fs.decodeFast(b) {
		var js settleInput
		if err := json.Unmarshal(b, &js); err != nil {
			t.Fatalf("settle input %q: fast read it, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(fs, js) {
			t.Fatalf("settle input %q:\nfast %+v\njson %+v", b, fs.Data, js.Data)
		}
	} else if fs.Data != nil {
		t.Fatalf("settle input %q: gave up but left %+v", b, fs.Data)
	}
	if lines, ok := feeDetailsFast(b, 1000); ok {
		var js struct {
			Feedetail []*feeDetailLine `json:"feedetail"`
		}
		if err := json.Unmarshal(b, &js); err != nil || len(js.Feedetail) == 0 || slices.Contains(js.Feedetail, nil) {
			t.Fatalf("fee details %q: fast read them, encoding/json: %v %v", b, js.Feedetail, err)
		}
		for i, l := range js.Feedetail {
			if !reflect.DeepEqual(lines[i], *l) {
				t.Fatalf("fee details %q line %d:\nfast %+v\njson %+v", b, i, lines[i], *l)
			}
		}
	}
}
