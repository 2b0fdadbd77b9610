package memstore

// defaultChunk is the size of the byte chunks records are appended to; a
// larger record gets a chunk of its own.
const defaultChunk = 1 << 20

// byteChunks is an append-only store of byte strings in large chunks,
// which hold no pointer: the garbage collector does not scan them. Bytes
// once written never change, and a chunk's slice is never resliced once
// made, so bytes found (at) under the owner's lock may be read after it
// is released while others are appended. The zero value is empty; the
// owner serialises write.
type byteChunks struct {
	chunks    [][]byte // each of its full length
	used      int      // bytes written in the last chunk
	chunkSize int      // 0: defaultChunk
}

// recordRef is where a byte string is: its chunk, offset and length.
type recordRef struct {
	chunk, off, n uint32
}

// write appends a byte string given in two parts, and returns where it is.
func (c *byteChunks) write(prefix, body []byte) recordRef {
	size := len(prefix) + len(body)
	chunkSize := c.chunkSize
	if chunkSize == 0 {
		chunkSize = defaultChunk
	}
	if len(c.chunks) == 0 || chunkSize-c.used < size {
		c.chunks = append(c.chunks, make([]byte, max(size, chunkSize)))
		c.used = 0
	}
	last := c.chunks[len(c.chunks)-1]
	copy(last[c.used:], prefix)
	copy(last[c.used+len(prefix):], body)
	ref := recordRef{chunk: uint32(len(c.chunks) - 1), off: uint32(c.used), n: uint32(size)}
	c.used += size
	return ref
}

// at is the byte string at ref.
func (c *byteChunks) at(ref recordRef) []byte {
	return c.chunks[ref.chunk][ref.off : ref.off+ref.n : ref.off+ref.n]
}
