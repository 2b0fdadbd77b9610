// Package jsonquote appends Go strings as JSON strings, byte for byte as
// encoding/json writes them, without reflection or allocation. The
// national gateway's answers (HTML escaping off, as the national
// platform's clients read them) and pgstore's stored documents (HTML
// escaping on, as json.Marshal wrote them before) both quote with it.
package jsonquote

import "unicode/utf8"

// Append appends s to b as encoding/json writes a string: quoted, with
// \" \\ \b \f \n \r \t, the other control characters as \u00XX, each byte
// of invalid UTF-8 as \ufffd, and U+2028 and U+2029 as \u2028 and \u2029.
// With html, < > & are written \u003c \u003e \u0026 too, as json.Marshal
// does (an Encoder with SetEscapeHTML(false) does not).
func Append(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// hexDigits are the digits of a \u00XX escape.
const hexDigits = "0123456789abcdef"
