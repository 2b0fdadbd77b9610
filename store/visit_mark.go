package store

import (
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// MaxCertTypeLen is the longest VisitMark.CertType (mdtrt_cert_type).
const MaxCertTypeLen = 10

// CheckVisitMark refuses a mark SettleVisit cannot keep: a Msgid longer
// than engine.MaxIDLen or a CertType longer than MaxCertTypeLen
// characters, or either not UTF-8 or holding a NUL, or an At outside the
// years 1970 to 9999 (a *engine.ValidationError naming mark.msgid,
// mark.cert_type or mark.at): both stores refuse alike, and a mark
// PostgreSQL could not store never reaches a group commit.
func CheckVisitMark(m VisitMark) error {
	var v engine.Violations
	if !m.At.IsZero() {
		if y := m.At.UTC().Year(); y < 1970 || y > 9999 {
			v.Addf("mark.at", "must be a time in the years 1970 to 9999, got %s", m.At.UTC().Format(time.RFC3339))
		}
	}
	if m.Msgid != "" {
		engine.CheckText(&v, "mark.msgid", m.Msgid, engine.MaxIDLen)
	}
	if m.CertType != "" {
		engine.CheckText(&v, "mark.cert_type", m.CertType, MaxCertTypeLen)
	}
	return v.Err()
}

// SettledAt is the time a visit settled for m is recorded as settled at:
// m.At, or now when m.At is zero, in UTC truncated to the microsecond.
func (m VisitMark) SettledAt(now time.Time) time.Time {
	if !m.At.IsZero() {
		now = m.At
	}
	return now.UTC().Truncate(time.Microsecond)
}

// SettledByMark is v settled by settlementID for mark at
// mark.SettledAt(at) (SettleVisit's transition, made in the settlement's
// transaction). Refuses, with ErrVisitNotOpen, a v that is not OPEN or
// whose Generation or DetailsVersion is no longer mark's.
func (v Visit) SettledByMark(mark VisitMark, settlementID string, at time.Time) (Visit, error) {
	if err := v.CheckOpen(); err != nil {
		return Visit{}, err
	}
	if v.Generation != mark.Generation {
		return Visit{}, fmt.Errorf("visit %s was reopened since it was read (generation %d, read %d): %w",
			v.ID, v.Generation, mark.Generation, ErrVisitNotOpen)
	}
	if v.DetailsVersion != mark.DetailsVersion {
		return Visit{}, fmt.Errorf("visit %s: its fee details changed since they were read (version %d, read %d): %w",
			v.ID, v.DetailsVersion, mark.DetailsVersion, ErrVisitNotOpen)
	}
	v.State, v.SettlementID = VisitSettled, settlementID
	v.SettledAt, v.SettleMsgid, v.SettleCertType = mark.SettledAt(at), mark.Msgid, mark.CertType
	return v, nil
}

// Clocked is a store whose clock can be set (both stores): the time
// SettleVisit records a visit settled at, and pgstore's settlements
// theirs. For tests and demos on a fixed clock; set it before the store
// is used.
type Clocked interface {
	SetClock(now func() time.Time)
}
