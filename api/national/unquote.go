package national

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// unquote is the string a JSON string literal b holds, as json.Unmarshal
// reads it: a literal without escapes, control characters or invalid
// UTF-8 (nearly every code and id a HIS sends) is its bytes between the
// quotes, without a second pass of the decoder; any other goes through
// json.Unmarshal.
func unquote(b []byte) (string, error) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		in := b[1 : n-1]
		plain := bytes.IndexByte(in, '\\') < 0 && bytes.IndexByte(in, '"') < 0
		for i := 0; plain && i < len(in); i++ {
			plain = in[i] >= 0x20
		}
		if plain && utf8.Valid(in) {
			return string(in), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}
