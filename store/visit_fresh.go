package store

// freshScanMax is the most lines of one upload FreshFeeDetails finds
// repeated SNs among by comparing each with the fresh lines before it;
// an upload of more is given a map.
const freshScanMax = 16

// FreshFeeDetails is NewFeeDetails's decision without copying a line: it
// appends to fresh, and returns, the indexes in lines of the lines
// PutFeeDetails adds, in order, each SN once; a line whose SN is live (or
// earlier in lines) with the same content is a no-op, and with other
// content a conflict: the answer is then a *DetailConflictError naming
// every such SN once, in the order of lines. live(sn) is the visit's live
// line of SN sn, if any: it is asked only of the SNs of lines, and the
// content it returns is compared as FeeDetail.SameContent compares (its
// VisitID does not matter). On a conflict nothing is appended to fresh.
// The lines must have passed CheckFeeDetails.
// A store that keeps its lines encoded finds them without decoding every
// one into a map, and adds the lines it is given without copying them
// (memstore).
func FreshFeeDetails(lines []FeeDetail, live func(sn string) (FeeDetail, bool), fresh []int) ([]int, error) {
	first := len(fresh)
	// seen is the index in lines of each fresh SN's line, for an upload
	// too long to compare each line with the fresh ones before it.
	var seen map[string]int
	if len(lines) > freshScanMax {
		seen = make(map[string]int, len(lines))
	}
	earlier := func(sn string) (int, bool) {
		if seen != nil {
			i, ok := seen[sn]
			return i, ok
		}
		for _, i := range fresh[first:] {
			if lines[i].SN == sn {
				return i, true
			}
		}
		return 0, false
	}
	var conflict map[string]bool // made at the first conflict
	var conflicts []string
	for i := range lines {
		d := &lines[i]
		prev, ok := live(d.SN)
		if !ok {
			var j int
			if j, ok = earlier(d.SN); ok {
				prev = lines[j]
			}
		}
		switch {
		case !ok:
			fresh = append(fresh, i)
			if seen != nil {
				seen[d.SN] = i
			}
		case !prev.SameContent(*d) && !conflict[d.SN]:
			if conflict == nil {
				conflict = map[string]bool{}
			}
			conflict[d.SN] = true
			conflicts = append(conflicts, d.SN)
		}
	}
	if len(conflicts) > 0 {
		return fresh[:first], &DetailConflictError{SNs: conflicts}
	}
	return fresh, nil
}
