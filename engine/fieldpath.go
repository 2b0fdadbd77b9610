package engine

import "strconv"

// FieldPath names a field of a request without building its text: Prefix,
// then [Index] when Index ≥ 0, then .Field when Field is not empty
// ("items[2].amount"). Validation passes FieldPaths around and turns one
// into a string only when it records a violation, so that checking a
// valid request allocates nothing for field names.
type FieldPath struct {
	Prefix string
	Index  int
	Field  string
}

// Path is the path of a plain field: prefix alone.
func Path(prefix string) FieldPath { return FieldPath{Prefix: prefix, Index: -1} }

// IndexPath is the path of the field of the i-th element of the list
// prefix ("items", 2, "amount" is "items[2].amount"); an empty field names
// the element itself.
func IndexPath(prefix string, i int, field string) FieldPath {
	return FieldPath{Prefix: prefix, Index: i, Field: field}
}

// String renders the path ("items[2].amount").
func (p FieldPath) String() string {
	if p.Index < 0 && p.Field == "" {
		return p.Prefix
	}
	b := make([]byte, 0, len(p.Prefix)+len(p.Field)+8)
	b = append(b, p.Prefix...)
	if p.Index >= 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.Index), 10)
		b = append(b, ']')
	}
	if p.Field != "" {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, p.Field...)
	}
	return string(b)
}

// With is the path of a field below p: p's field, or p itself when it has
// none, extended by ".field". It builds the text of p's own field only
// when p has both an index and a field (a nested path), which validation
// of line items never does.
func (p FieldPath) With(field string) FieldPath {
	if p.Field == "" {
		p.Field = field
		return p
	}
	return FieldPath{Prefix: p.String() + "." + field, Index: -1}
}

// AddAtf records a problem with the field at path p; the path's text is
// built here, only when there is a problem.
func (v *Violations) AddAtf(p FieldPath, format string, args ...any) {
	v.Addf(p.String(), format, args...)
}
