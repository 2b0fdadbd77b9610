package national

import "fmt"

// Refusal is a business failure answered as infcode "-1" with Msg as
// err_msg: Chinese, at most 200 characters, naming the field and what to
// do (GATEWAY.md "Envelope").
type Refusal struct {
	Msg string
}

// Error implements error.
func (r *Refusal) Error() string { return r.Msg }

// refuse builds a Refusal from a format.
func refuse(format string, a ...any) *Refusal {
	return &Refusal{Msg: fmt.Sprintf(format, a...)}
}
