package store

import (
	"encoding/hex"

	"github.com/google/uuid"
)

// SettlementIDPrefix starts every settlement id, so that an id in a log, a
// report or a support ticket says what it names.
const SettlementIDPrefix = "ST"

// NewSettlementID returns a new settlement id: SettlementIDPrefix and a
// version 7 UUID (RFC 9562) as 32 lowercase hex digits, 34 characters in
// all, e.g. "ST019b0c4e1f2a7d3e9c4b5a6f7e8d9c0b".
//
// The id is unguessable: 62 of its bits come from crypto/rand, so knowing
// one settlement's id, or when another was made, does not tell another
// id. It is time-ordered: the first 48 bits are the Unix time in
// milliseconds and the next 12 a sub-millisecond sequence that google/uuid
// keeps increasing within the process, so ids compare (as bytes) in the
// order they were made, and after the sequential ids of earlier versions
// ("ST" and 12 digits, below ST010000000000), which stay valid.
//
// It does not fail: crypto/rand's reader never returns an error (Go 1.24
// and later), and google/uuid reads nothing else unless told to
// (uuid.SetRand, uuid.EnableRandPool), which medsettle never does.
func NewSettlementID() string {
	u := uuid.Must(uuid.NewV7())
	var b [len(SettlementIDPrefix) + 2*len(u)]byte
	copy(b[:], SettlementIDPrefix)
	hex.Encode(b[len(SettlementIDPrefix):], u[:])
	return string(b[:])
}
