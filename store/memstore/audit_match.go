package memstore

import (
	"time"

	"github.com/medsettle/medsettle/store"
)

// mayMatch reports whether the encoded event b may pass f, reading it
// without allocating: false only when it certainly does not (it applies
// store.AuditFilter.Match's tests to the encoded fields). AuditEvents
// decodes only the events it lets through and asks Match of those, so a
// scan of a long log for a few events decodes only those.
func mayMatch(b []byte, f *store.AuditFilter) bool {
	r := recordReader{b: b}
	sec, nsec := r.int64(), r.int64()
	var texts [13][]byte // in auditTexts' order
	for i := range texts {
		texts[i] = r.bytes()
	}
	r.int64() // message count
	code := int32(r.int64())
	if r.bad {
		return true // decodeAuditEvent reports it
	}
	const callerInstitution, method, requestID, personID, institutionID = 1, 2, 3, 5, 6
	at := time.Unix(sec, nsec)
	switch {
	case f.Method != "" && string(texts[method]) != f.Method,
		f.Institution != "" && string(texts[callerInstitution]) != f.Institution && string(texts[institutionID]) != f.Institution,
		f.PersonID != "" && string(texts[personID]) != f.PersonID,
		f.RequestID != "" && string(texts[requestID]) != f.RequestID,
		!f.From.IsZero() && at.Before(f.From.Truncate(time.Microsecond)),
		!f.To.IsZero() && !at.Before(f.To.Truncate(time.Microsecond)),
		f.HasCode && code != f.Code:
		return false
	}
	return true
}
