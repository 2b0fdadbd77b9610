package national

import (
	"context"
	"encoding/json"
	"time"
)

// Credential is an institution's signing credential from the config file:
// its national code, its medsettle institution id, key and secret.
type Credential struct {
	FixmedinsCode string `json:"fixmedins_code"`
	InstitutionID string `json:"institution_id"`
	Key           string `json:"key"`
	Secret        string `json:"secret"`
}

// Call is one authenticated request being answered: the envelope, the
// credential its signature proved (already checked against the envelope's
// fixmedins_code), and the server's clock when it arrived. The context a
// handler gets already carries the institution's principal for Services.
type Call struct {
	Env  *Envelope
	Cred *Credential
	Now  time.Time
	// audit is what the request's audit event names besides the envelope
	// (Audit).
	audit callAudit
}

// handler answers one transaction: it decodes input (the envelope's
// `input`, possibly null) and returns the `output` object. An error is a
// *Refusal (infcode "-1" with its message) or any other error, which the
// gateway maps once (gRPC status codes of Services to Chinese messages,
// the store's errors likewise; anything else "内部错误", logged in full).
type handler func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error)

// handlers are the transactions served, by infno; each transaction's file
// registers its own in an init function.
var handlers = map[string]handler{}

// register adds a transaction; it panics on a duplicate infno.
func register(infno string, h handler) {
	if _, dup := handlers[infno]; dup {
		panic("national: infno " + infno + " registered twice")
	}
	handlers[infno] = h
}
