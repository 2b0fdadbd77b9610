package store

import (
	"unicode/utf8"

	"github.com/medsettle/medsettle/engine"
)

// lineClean reports, in one pass over each text, that CheckFeeDetails
// has nothing to record about d: its SN is what engine.CheckIDAt passes
// at once (ASCII, no control character, at most engine.MaxIDLen), its
// other texts are what engine.CheckTextAt passes (UTF-8 of at most their
// limit in characters, no NUL) and no figure is negative. A line it does
// not call clean takes every check, for their messages; so the checks
// decide alone, and an upload of clean lines (the usual one, names in
// Chinese) is not read three times per text and per character through a
// function.
func lineClean(d *FeeDetail) bool {
	return idClean(d.SN) && textClean(d.Batch, engine.MaxIDLen) && textClean(d.Code, engine.MaxIDLen) &&
		textClean(d.Name, engine.MaxNameLen) && textClean(d.FeeTime, engine.MaxIDLen) &&
		textClean(d.MedType, engine.MaxIDLen) &&
		d.Quantity.Scaled() >= 0 && d.UnitPrice.Scaled() >= 0 && !d.Amount.IsNegative()
}

// idClean reports that s is a non-empty ASCII id of at most
// engine.MaxIDLen characters without a control character (DEL included),
// which engine.CheckIDAt passes.
func idClean(s string) bool {
	if s == "" || len(s) > engine.MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// textClean reports that s is valid UTF-8 of at most max characters
// without a NUL, which engine.CheckTextAt passes.
func textClean(s string, max int) bool {
	if len(s) > max*utf8.UTFMax {
		return false
	}
	n := 0
	for i := 0; i < len(s); n++ {
		if c := s[i]; c < utf8.RuneSelf {
			if c == 0 {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return n <= max
}
