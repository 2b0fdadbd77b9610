package national

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/medsettle/medsettle/engine"
)

// Number is a decimal as HIS clients send it: a JSON number or a string
// holding one (both are common). It keeps the literal text, so that it
// is parsed exactly (engine.ParseMoney, ParsePrice, ParseQuantity), never
// through float64. Present reports whether the field was sent at all.
type Number struct {
	Text    string
	Present bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	n.Present = true
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		n.Text, n.Present = "", false
		return nil
	case len(b) > 0 && b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		n.Text = string(bytes.TrimSpace([]byte(s)))
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		n.Text = string(b)
		return nil
	}
	return typeError(b, reflect.TypeFor[Number]())
}

// typeError is the error of a JSON value b of the wrong type for t: a
// *json.UnmarshalTypeError, which the decoder completes with the field's
// path, so that the refusal names the field (decodeInput).
func typeError(b []byte, t reflect.Type) error {
	kind := "value"
	if len(b) > 0 {
		switch b[0] {
		case '{':
			kind = "object"
		case '[':
			kind = "array"
		case 't', 'f':
			kind = "bool"
		case '"':
			kind = "string"
		}
	}
	return &json.UnmarshalTypeError{Value: kind, Type: t}
}

// Amount is money in an answer: a JSON number written with two decimals
// (GATEWAY.md "Envelope").
type Amount engine.Money

// MarshalJSON implements json.Marshaler.
func (a Amount) MarshalJSON() ([]byte, error) {
	return engine.Money(a).AppendFixed(nil), nil
}
