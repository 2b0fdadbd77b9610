package national

import (
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
func (c *Call) Today() string { return c.Now.In(shanghai).Format(time.DateOnly) }
