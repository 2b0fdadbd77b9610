package api

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestValuesAtMostBytes: countValues never counts more values than the
// message has bytes, whatever the bytes (well-formed, with groups, cut
// short, random), which is what lets checkValues skip counting a message
// no longer than its limit.
func TestValuesAtMostBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 25))
	for i := range 20000 {
		var b []byte
		switch i % 3 {
		case 0:
			b = settleWire(r, i%2 == 1)
		case 1:
			b = settleWire(r, true)
			b = protowire.AppendTag(b, 9, protowire.StartGroupType)
			b = protowire.AppendTag(b, 9, protowire.EndGroupType)
			b = append(b, byte(r.IntN(256)), byte(r.IntN(256)))
			b = b[:r.IntN(len(b)+1)]
		default:
			b = make([]byte, r.IntN(64))
			for j := range b {
				b[j] = byte(r.IntN(256))
			}
		}
		var n, sn int
		countValues(b, settleRequestDescriptor, 0, &n, 1<<30)
		countSettleValues(b, settleRequestDescriptor, 0, &sn, 1<<30)
		if n > len(b) || sn > len(b) {
			t.Fatalf("% x: %d bytes counted as %d values (settle: %d)", b, len(b), n, sn)
		}
	}
}
