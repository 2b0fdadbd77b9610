package memstore

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// The audit log keeps its events encoded like the settlement records
// (record_codec.go): the time as Unix seconds and nanoseconds (UTC), the
// texts, the message count and code, and the result ids (a uvarint of
// their number plus one, 0 for nil). The ID is the event's place in the
// log and is not encoded.

// appendAuditEvent appends the encoded e to b.
func appendAuditEvent(b []byte, e *store.AuditEvent) []byte {
	b = binary.AppendVarint(b, e.Time.Unix())
	b = binary.AppendVarint(b, int64(e.Time.Nanosecond()))
	for _, s := range auditTexts(e) {
		b = appendString(b, *s)
	}
	b = binary.AppendVarint(b, e.MessageCount)
	b = binary.AppendVarint(b, int64(e.Code))
	b = appendLen(b, e.ResultIDs == nil, len(e.ResultIDs))
	for _, id := range e.ResultIDs {
		b = appendString(b, id)
	}
	return b
}

// auditTexts are pointers to an event's texts, in the order they are
// encoded.
func auditTexts(e *store.AuditEvent) [13]*string {
	return [13]*string{&e.Role, &e.CallerInstitution, &e.Method, &e.RequestID, &e.SettlementID, &e.PersonID,
		&e.InstitutionID, &e.Region, &e.Scheme, &e.Version, &e.RunID, &e.ContractID, &e.FilingID}
}

// decodeAuditEvent decodes an event encoded by appendAuditEvent. An error
// wraps engine.ErrInvariant: the log only reads what it wrote.
func decodeAuditEvent(b []byte) (store.AuditEvent, error) {
	r := recordReader{b: b, s: string(b)}
	var e store.AuditEvent
	sec := r.int64()
	nsec := r.int64()
	e.Time = time.Unix(sec, nsec).UTC()
	for _, s := range auditTexts(&e) {
		*s = r.str()
	}
	e.MessageCount = r.int64()
	e.Code = int32(r.int64())
	if n, ok := r.len(); ok {
		e.ResultIDs = make([]string, n)
		for i := range e.ResultIDs {
			e.ResultIDs[i] = r.str()
		}
	}
	if r.bad || r.off != len(b) {
		return store.AuditEvent{}, fmt.Errorf("%w: memstore: an audit event does not decode", engine.ErrInvariant)
	}
	return e, nil
}
