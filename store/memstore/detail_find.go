package memstore

import "github.com/medsettle/medsettle/store"

// detailScanMax is the most line comparisons (live lines × lines
// uploaded) a detailFinder makes by reading SNs in the encoding; above
// it, it indexes the live lines by SN once.
const detailScanMax = 256

// detailFinder finds a visit's live lines by SN for PutFeeDetails
// (store.FreshFeeDetails' live) in their encoding, decoding only the
// lines it finds: an upload to a visit without lines, the usual one,
// decodes nothing and allocates nothing. As liveLines, it reads lines
// found under the book's lock after it is released.
type detailFinder struct {
	id string
	l  detailLines
	// s is l.enc as a string and bySN the bounds in it of the body of
	// each live SN's line, when the finder indexes them (detailScanMax).
	s    string
	bySN map[string][2]int
	// err is the error a line found could not be decoded with
	// (errDetailCorrupt: check makes it impossible).
	err error
}

// newDetailFinder is a finder of the live lines l of visit id for an
// upload of uploaded lines, or errDetailCorrupt if a line is not whole
// (liveLines would refuse it).
func newDetailFinder(id string, l detailLines, uploaded int) (detailFinder, error) {
	f := detailFinder{id: id, l: l}
	if len(l.enc) == 0 {
		return f, nil
	}
	index := l.n*uploaded > detailScanMax
	if index {
		f.s, f.bySN = string(l.enc), make(map[string][2]int, l.n)
	}
	r := recordReader{b: l.enc}
	for r.off < len(r.b) {
		i, j := r.span()
		if r.bad || !detailWhole(l.enc[i:j]) {
			return detailFinder{}, errDetailCorrupt
		}
		if index {
			k := recordReader{b: l.enc[:j], s: f.s[:j], off: i}
			f.bySN[k.str()] = [2]int{i, j} // the last line of an SN wins, as in a map of them all
		}
	}
	return f, nil
}

// find is the live line of SN sn, if any (the last of them).
func (f *detailFinder) find(sn string) (store.FeeDetail, bool) {
	var body []byte
	var s string
	if f.bySN != nil {
		at, ok := f.bySN[sn]
		if !ok {
			return store.FeeDetail{}, false
		}
		body, s = f.l.enc[at[0]:at[1]], f.s[at[0]:at[1]]
	} else {
		found := false
		r := recordReader{b: f.l.enc}
		for r.off < len(r.b) {
			b := r.bytes()
			if got, _, ok := detailKey(b); ok && string(got) == sn {
				body, found = b, true
			}
		}
		if !found {
			return store.FeeDetail{}, false
		}
		s = string(body)
	}
	d, err := decodeDetailIn(f.id, body, s)
	if err != nil {
		f.err = err
		return store.FeeDetail{}, false
	}
	return d, true
}
