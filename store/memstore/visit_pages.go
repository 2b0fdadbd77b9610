package memstore

// visitPageSize is how many elements a page of a pagedSlice holds.
const visitPageSize = 4096

// pagedSlice is a growable array of T kept in pages of visitPageSize
// elements: growing it adds a page and never copies what it holds (a
// visit book of millions of slots does not copy them all under its mutex
// when it grows), and an element's address stays the same for good. A
// page of a pointer-free T is itself pointer-free. The zero value is
// empty; the owner serialises access.
type pagedSlice[T any] struct {
	pages [][]T
	n     uint32
}

// len is how many elements p holds.
func (p *pagedSlice[T]) len() uint32 { return p.n }

// at is the element i (i < p.len()).
func (p *pagedSlice[T]) at(i uint32) *T {
	return &p.pages[i/visitPageSize][i%visitPageSize]
}

// append adds v at the end and returns its index.
func (p *pagedSlice[T]) append(v T) uint32 {
	i := p.n
	if i%visitPageSize == 0 {
		p.pages = append(p.pages, make([]T, visitPageSize))
	}
	*p.at(i) = v
	p.n++
	return i
}
