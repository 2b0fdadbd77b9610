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

// growStackForPreview is growStackFor for PreSettle, which goes less deep
// (no store write, no fingerprint, no record): a frame of
// previewStackBytes makes the stack 16 KiB, a size the runtime hands out
// from a per-P cache, where growStackFor's 32 KiB is a large stack taken
// and given back under the runtime's global stack and heap locks.
//
//go:noinline
func growStackForPreview(i int) byte {
	var frame [previewStackBytes]byte
	frame[i%previewStackBytes] = byte(i)
	return frame[(i+1)%previewStackBytes]
}

// previewStackBytes is the frame growStackForPreview takes.
const previewStackBytes = 12 << 10

// stackNeed is the stack a unary handler is given before it runs.
type stackNeed int

const (
	stackAsIs    stackNeed = iota // as the goroutine has it
	stackSettle                   // growStackFor
	stackPreview                  // growStackForPreview
)
