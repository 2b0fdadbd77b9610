package national

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/medsettle/medsettle/engine"
)

// text is a code or identifier as HIS clients send it: a JSON string, or a
// number some clients send for numeric-looking codes (its literal text).
// null and absent are "".
type text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*t = text(b)
	default:
		return typeError(b, reflect.TypeFor[text]())
	}
	return nil
}

// decodeInput reads the transaction's input object into v (a struct whose
// fields name its sections: data, mdtrtinfo, feedetail…): in one pass when
// v is a fastDecoder and input plainly reads, else with encoding/json. A
// body that is not that JSON is refused naming input.
func decodeInput(input json.RawMessage, v any) error {
	if len(bytes.TrimSpace(input)) == 0 || bytes.Equal(bytes.TrimSpace(input), []byte("null")) {
		return refuse("input 为空，请按接口规范传入 input")
	}
	if f, ok := v.(fastDecoder); ok && f.decodeFast(input) {
		return nil
	}
	if err := json.Unmarshal(input, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return refuse("input.%s 类型不对（%s），请按接口规范传入", clip(te.Field, 40), te.Value)
		}
		return refuse("input 不是接口规范的 JSON（%s），请检查后重传", clip(err.Error(), 60))
	}
	return nil
}

// idProblem is what is wrong with a required identifier or code (engine's
// CheckID: 1 to MaxIDLen characters, no control character), "" if nothing.
func idProblem(s string) string {
	var v engine.Violations
	engine.CheckID(&v, "id", s)
	switch {
	case v.Len() == 0:
		return ""
	case s == "":
		return "为空"
	}
	return fmt.Sprintf("须为 1 至 %d 个字符且不含控制字符", engine.MaxIDLen)
}

// requireID refuses a missing or malformed identifier, naming field.
func requireID(field string, s text) error {
	if p := idProblem(string(s)); p != "" {
		return refuse("%s %s，请传入正确的 %s", field, p, field)
	}
	return nil
}

// hisTimeLayouts are the date-time forms the interface uses.
var hisTimeLayouts = []string{time.DateTime, "20060102150405"}

// parseHISTime reads a date-time as the interface writes it
// ("yyyy-MM-dd HH:mm:ss" or "yyyyMMddHHmmss"); its calendar date is the
// date as written (Asia/Shanghai, the HIS's clock).
func parseHISTime(s string) (engine.Date, bool) {
	if d, ok := parseDateTimeFast(s); ok {
		return d, true
	}
	for _, layout := range hisTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil && t.Year() >= engine.MinYear {
			return engine.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, true
		}
	}
	return engine.Date{}, false
}

// parseDateTimeFast reads the usual "yyyy-MM-dd HH:mm:ss" (two digits
// each but the year's four) without time.Parse; false when s is not
// plainly that, for time.Parse to judge. What it reads, time.Parse reads
// the same (TestParseDateTimeFast).
func parseDateTimeFast(s string) (engine.Date, bool) {
	if len(s) != len(time.DateTime) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return engine.Date{}, false
	}
	num := func(i, n int) int {
		v := 0
		for ; n > 0; i, n = i+1, n-1 {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, second := num(11, 2), num(14, 2), num(17, 2)
	if year < engine.MinYear || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || second < 0 || second > 59 {
		return engine.Date{}, false
	}
	// The month's last day, as time.Parse checks it.
	last := int("\x1f\x1c\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"[month-1])
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		last = 29
	}
	if day > last {
		return engine.Date{}, false
	}
	return engine.Date{Year: year, Month: time.Month(month), Day: day}, true
}

// requireTime refuses a missing or malformed date-time, naming field.
func requireTime(field string, s text) error {
	if _, ok := parseHISTime(string(s)); !ok {
		return refuse("%s「%s」不是日期时间，请按 yyyy-MM-dd HH:mm:ss 传入", field, clip(string(s), 30))
	}
	return nil
}

// clip shortens a value echoed in a message to at most n characters, so
// that a message stays within 200.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // replaces invalid bytes
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
