package store

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/google/uuid"
)

// VisitIDPrefix starts every visit id (mdtrt_id), so that an id in a log
// or a support ticket says what it names, and no visit id is ever taken
// for a settlement id ("ST…").
const VisitIDPrefix = "MD"

// MaxVisitIDLen is the longest visit id: the national interface's
// mdtrt_id is a 30-character field.
const MaxVisitIDLen = 30

// NewVisitID returns a new visit id: VisitIDPrefix and 28 lowercase hex
// digits, MaxVisitIDLen characters in all, e.g.
// "MD019b0c4e1f2a7d3e9c4b5a6f7e8d".
//
// The digits are those of a version 7 UUID (as NewSettlementID's) without
// its version and variant bits and with its last 10 random bits dropped:
// 48 bits of Unix time in milliseconds, the 12-bit sub-millisecond
// sequence google/uuid keeps increasing within the process, then 52 bits
// from crypto/rand. So ids compare (as bytes) in the order they were made,
// and knowing one visit's id, or when another was opened, does not tell
// another's (2^52 candidates per sequence step); the gateway still checks
// that a visit is the calling institution's.
//
// It does not fail, for the reasons NewSettlementID gives.
func NewVisitID() string {
	u := uuid.Must(uuid.NewV7())
	// time (48) | version (4) | sequence (12) | variant (2) | random (62).
	var raw [14]byte
	copy(raw[:6], u[:6])
	seq := binary.BigEndian.Uint16(u[6:8]) & 0x0fff
	rnd := binary.BigEndian.Uint64(u[8:16]) & (1<<62 - 1)
	// sequence (12) and the first 52 random bits: 64 bits.
	binary.BigEndian.PutUint64(raw[6:], uint64(seq)<<52|rnd>>10)
	var b [MaxVisitIDLen]byte
	copy(b[:], VisitIDPrefix)
	hex.Encode(b[len(VisitIDPrefix):], raw[:])
	return string(b[:])
}
