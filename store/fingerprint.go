package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ReversalFingerprint identifies a reversal request, so that a retry can be
// told from another request reusing its id.
func ReversalFingerprint(r Reversal) string {
	h := sha256.New()
	fmt.Fprintf(h, "reverse;%d:%s;%d:%s", len(r.SettlementID), r.SettlementID, len(r.Reason), r.Reason)
	return hex.EncodeToString(h.Sum(nil))
}
