package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Domain errors. Callers test them with errors.Is; the API maps each to one
// status code.
var (
	// ErrInvalid marks malformed input; the error is a *ValidationError.
	ErrInvalid = errors.New("invalid argument")
	// ErrNoPolicy means no policy version covers the person's region,
	// scheme and the settle date.
	ErrNoPolicy = errors.New("no policy in force")
	// ErrNotCovered means the policy cannot settle this claim: the
	// institution level has no deductible or rate row, or no cap pool row
	// fits the person's contribution years.
	ErrNotCovered = errors.New("not covered by the policy")
	// ErrAlreadyReversed means a settlement was reversed before.
	ErrAlreadyReversed = errors.New("settlement already reversed")
	// ErrForbidden means the caller may not touch this object (another
	// institution's settlement). The API answers it for a settlement as
	// for one that does not exist (NOT_FOUND), so that an institution
	// learns nothing of other institutions' settlements.
	ErrForbidden = errors.New("permission denied")
)

// Violation names one bad field and what is wrong with it.
type Violation struct {
	// Field is the field path in the API's snake_case names, e.g. "items[2].amount".
	Field string
	// Description says what is wrong with the field.
	Description string
}

// ValidationError lists every problem found in one request.
type ValidationError struct {
	Violations []Violation
}

// MaxErrorViolations is the most violations ValidationError.Error states;
// the rest are counted. A claim of MaxItems bad items has thousands of
// violations, and a log line or status message of all of them is hundreds
// of kilobytes; the full list stays in Violations.
const MaxErrorViolations = 10

// Error joins the first MaxErrorViolations violations into one line and
// counts the others.
func (e *ValidationError) Error() string {
	n := min(len(e.Violations), MaxErrorViolations)
	parts := make([]string, n)
	for i, v := range e.Violations[:n] {
		parts[i] = v.Field + ": " + v.Description
	}
	msg := "invalid argument: " + strings.Join(parts, "; ")
	if more := len(e.Violations) - n; more > 0 {
		msg += fmt.Sprintf(" (and %d more)", more)
	}
	return msg
}

// Has reports whether a violation names field.
func (e *ValidationError) Has(field string) bool {
	for _, v := range e.Violations {
		if v.Field == field {
			return true
		}
	}
	return false
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Violations collects problems while a request is checked, so that all of
// them are reported at once.
type Violations struct {
	list []Violation
}

// Addf records a problem with a field.
func (v *Violations) Addf(field, format string, args ...any) {
	v.list = append(v.list, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// Len is the number of problems recorded.
func (v *Violations) Len() int { return len(v.list) }

// Err returns a *ValidationError with every recorded problem, or nil.
func (v *Violations) Err() error {
	if len(v.list) == 0 {
		return nil
	}
	return &ValidationError{Violations: append([]Violation(nil), v.list...)}
}

// MergeNew adds the violations of err for fields that have none yet, so a
// field that failed to parse is not reported again by a later check.
func (v *Violations) MergeNew(err error) {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return
	}
	seen := make(map[string]bool, len(v.list))
	for _, x := range v.list {
		seen[x.Field] = true
	}
	for _, x := range ve.Violations {
		if !seen[x.Field] {
			v.list = append(v.list, x)
		}
	}
}

// Merge adds the violations of err when it is a *ValidationError and
// reports whether it was one.
func (v *Violations) Merge(err error) bool {
	var ve *ValidationError
	if errors.As(err, &ve) {
		v.list = append(v.list, ve.Violations...)
		return true
	}
	return false
}

// invalidf is a *ValidationError naming one field.
func invalidf(field, format string, args ...any) error {
	var v Violations
	v.Addf(field, format, args...)
	return v.Err()
}
