package memstore

// openLinesShrink is the size above which openLines is made anew once it
// holds an eighth of its peak: a Go map never gives back the room it grew
// to, which the garbage collector would go on scanning.
const openLinesShrink = 4096

// A visit's live fee-detail lines are encoded (detailLines) in one byte
// string. While a visit is OPEN they change with every upload and
// cancellation, and are kept in the book's openLines, a map holding one
// pointer per visit whose lines changed since they were last frozen. When
// the visit leaves OPEN (settled or cancelled: its lines cannot change
// then) they are frozen: written once to the book's pointer-free chunks
// (visitSlot.details) and dropped from the map. A visit reopened keeps
// reading them there until its lines change again. So the book costs the
// garbage collector nothing per settled or cancelled visit, and the
// chunks are not filled with every version of lines that change.

// detailLines is the live lines of the visit of slot. Call with b.mu
// held.
func (b *visitBook) detailLines(slot uint32) detailLines {
	s := b.slots.at(slot)
	enc, ok := b.openLines[slot]
	if !ok {
		enc = b.bytes(s.details)
	}
	return detailLines{enc: enc, n: int(s.lines)}
}

// setDetailLines makes l the live lines of the visit of slot, which is
// OPEN. Call with b.mu held.
func (b *visitBook) setDetailLines(slot uint32, l detailLines) {
	if b.openLines == nil {
		b.openLines = map[uint32][]byte{}
	}
	b.openLines[slot] = l.enc
	b.openPeak = max(b.openPeak, len(b.openLines))
	b.slots.at(slot).lines = uint32(l.n)
}

// freezeLines writes the lines of the visit of slot to the chunks if they
// changed since they were last frozen, and drops them from openLines.
// Call with b.mu held.
func (b *visitBook) freezeLines(slot uint32) {
	enc, ok := b.openLines[slot]
	if !ok {
		return
	}
	b.slots.at(slot).details = b.write(enc)
	delete(b.openLines, slot)
	if b.openPeak > openLinesShrink && len(b.openLines) < b.openPeak/8 {
		m := make(map[uint32][]byte, len(b.openLines))
		for slot, enc := range b.openLines {
			m[slot] = enc
		}
		b.openLines, b.openPeak = m, len(m)
	}
}
