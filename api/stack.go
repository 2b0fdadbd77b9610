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
// there to copy: the guard calls it first thing (guard.unary). i is 0;
// the frame is used only for a negative i, which keeps it from being
// optimised away while sparing every call the zeroing of 24 KiB (the
// stack check at entry is all that is wanted of it).
//
//go:noinline
func growStackFor(i int) byte {
	if i < 0 {
		var frame [settleStackBytes]byte
		frame[-i%settleStackBytes] = byte(i)
		return frame[(1-i)%settleStackBytes]
	}
	return 0
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
// i is 0, as growStackFor's.
//
//go:noinline
func growStackForPreview(i int) byte {
	if i < 0 {
		var frame [previewStackBytes]byte
		frame[-i%previewStackBytes] = byte(i)
		return frame[(1-i)%previewStackBytes]
	}
	return 0
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
