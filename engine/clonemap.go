package engine

import "maps"

// cloneMap returns a new map with m's entries and room for extra more
// (a map, never nil). maps.Clone copies a small map's one group of
// entries as it is, without iterating or hashing them again; it is used
// while the clone has room for the extra keys in that group, so that
// adding them does not grow it. A larger map is made at its final size
// and filled, as a copy that then grew would cost more.
func cloneMap[K comparable, V any](m map[K]V, extra int) map[K]V {
	if m != nil && len(m)+extra <= smallMapEntries {
		return maps.Clone(m)
	}
	out := make(map[K]V, len(m)+extra)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// smallMapEntries is how many entries Go's map keeps in its one group
// before it grows into a table (abi.MapGroupSlots).
const smallMapEntries = 8
