package api

// growStackFor gives the calling goroutine a stack deep enough for a
// settlement at once, while its stack is still shallow. gRPC runs every
// call on a fresh goroutine, whose small stack otherwise doubles two or
// three times on the way down to the store and the engine (a settlement's
// frames hold several engine.Settlement values), each time copying the
// frames above and adjusting their pointers: 8–14 % of the server's CPU
// under a Settle load (runtime.newstack, benchmarks/README.md "Embedded
// store hot path"). Its frame of settleStackBytes makes the goroutine's
// stack grow once, to the size that fits it, before the call's frames are
// there to copy: the guard calls it first thing (guard.unary). i is any
// number; it keeps the frame from being optimised away.
//
//go:noinline
func growStackFor(i int) byte {
	var frame [settleStackBytes]byte
	frame[i%settleStackBytes] = byte(i)
	return frame[(i+1)%settleStackBytes]
}

// settleStackBytes is the frame growStackFor takes, a little more than a
// Settle on the embedded store needs below the guard (with 10 KiB the
// stack still grew again in memstore's Settle).
const settleStackBytes = 24 << 10
