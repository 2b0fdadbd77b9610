package national

import (
	"sync/atomic"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// The national code tables the gateway reads and writes (GATEWAY.md
// "Transactions").

// schemeOfInsutype maps insutype (险种) to a scheme: 310 employees' basic
// insurance, 390 residents'.
func schemeOfInsutype(insutype string) (pb.Scheme, bool) {
	switch insutype {
	case "310":
		return pb.Scheme_SCHEME_EMPLOYEE, true
	case "390":
		return pb.Scheme_SCHEME_RESIDENT, true
	}
	return pb.Scheme_SCHEME_UNSPECIFIED, false
}

// insutypeOf is the insutype of a scheme ("" if unspecified).
func insutypeOf(s pb.Scheme) string {
	switch s {
	case pb.Scheme_SCHEME_EMPLOYEE:
		return "310"
	case pb.Scheme_SCHEME_RESIDENT:
		return "390"
	}
	return ""
}

// visitTypeOfMedType maps med_type (医疗类别) to a visit type: 11, 12, 13
// outpatient; 14 chronic outpatient (门慢门特); 21, 22, 23, 24, 26, 28
// inpatient. Others are not supported.
func visitTypeOfMedType(medType string) (pb.VisitType, bool) {
	switch medType {
	case "11", "12", "13":
		return pb.VisitType_VISIT_TYPE_OUTPATIENT, true
	case "14":
		return pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT, true
	case "21", "22", "23", "24", "26", "28":
		return pb.VisitType_VISIT_TYPE_INPATIENT, true
	}
	return pb.VisitType_VISIT_TYPE_UNSPECIFIED, false
}

// idetTypeOf is the Hunan code table's psn_idet_type (人员身份类别) of a
// category ("" for ordinary).
func idetTypeOf(c pb.PersonCategory) string {
	switch c {
	case pb.PersonCategory_PERSON_CATEGORY_DESTITUTE:
		return "2304"
	case pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING:
		return "2303"
	case pb.PersonCategory_PERSON_CATEGORY_POVERTY_ALLEVIATED:
		return "2302"
	case pb.PersonCategory_PERSON_CATEGORY_MONITORED:
		return "2305"
	}
	return ""
}

// shanghai is China Standard Time (UTC+8, no daylight saving): the
// calendar dates of the interface are Asia/Shanghai's whatever the host's
// zone, and a fixed zone needs no tzdata on the host.
var shanghai = time.FixedZone("CST", 8*60*60)

// Today is the Asia/Shanghai date of the call, "YYYY-MM-DD".
func (c *Call) Today() string { return shanghaiText(&lastDate, c.Now, time.DateOnly, 86400) }

// shanghaiDateTime is t in Asia/Shanghai as "YYYY-MM-DD HH:MM:SS".
func shanghaiDateTime(t time.Time) string { return shanghaiText(&lastDateTime, t, time.DateTime, 1) }

// clockText is a time's text in a layout, kept for the next calls within
// the same unit of it (a day, a second): nearly every request of a busy
// gateway formats the same date and the same second.
type clockText struct {
	unit int64 // Asia/Shanghai seconds / the layout's unit length
	text string
}

// lastDate and lastDateTime are the last texts of Today and
// shanghaiDateTime.
var lastDate, lastDateTime atomic.Pointer[clockText]

// shanghaiText is t in Asia/Shanghai in layout, which shows whole units
// of unitSeconds and nothing finer; the last one made is reused.
func shanghaiText(last *atomic.Pointer[clockText], t time.Time, layout string, unitSeconds int64) string {
	local := t.Unix() + 8*60*60 // shanghai's fixed offset
	unit := local / unitSeconds
	if local%unitSeconds < 0 {
		unit-- // floored
	}
	if c := last.Load(); c != nil && c.unit == unit {
		return c.text
	}
	text := t.In(shanghai).Format(layout)
	last.Store(&clockText{unit: unit, text: text})
	return text
}
