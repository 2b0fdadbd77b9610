package main

import (
	"encoding/json"
	"fmt"
)

// call is one row's load: the gRPC method, its request and issue 9's
// target for it.
type call struct {
	// id tags the row's request ids; label names it in the table.
	id     string
	label  string
	method string
	// who, for PreSettle and Settle, is whom the claims are for: each
	// run gets a file of distinct requests (bindata.go).
	who people
	// data, for the empty RPC, is its request as JSON (ghz -d).
	data  func() map[string]any
	empty bool
	// gateway is the national gateway's row (nationalrun.go), not ghz's.
	gateway bool
	target  target
}

// claimItems is the 6-line inpatient claim of benchmarks/ghz/settle-demo.json:
// beds, surgery, capped A and B drugs, a stent over its price cap and a
// self-pay ward, for an employee of 350500 at QZ-H3 (level 3).
var claimItems = []map[string]string{
	{"code": "A-BED", "name": "bed", "quantity": "12", "unitPrice": "80", "amount": "960.00"},
	{"code": "A-SURG", "name": "surgery", "quantity": "1", "unitPrice": "18500", "amount": "18500.00"},
	{"code": "A-DRUG", "name": "drug", "quantity": "40", "unitPrice": "15.0000", "amount": "600.00"},
	{"code": "B-DRUG", "name": "drug", "quantity": "33.3333", "unitPrice": "7.5000", "amount": "250.00"},
	{"code": "B-STENT", "name": "stent", "quantity": "1", "unitPrice": "9800", "amount": "9800.00"},
	{"code": "C-VIP", "name": "ward", "quantity": "5", "unitPrice": "200", "amount": "1000.00"},
}

// callsFor lists a store's rows: the empty RPC first (the others' ratios
// need it), then PreSettle and Settle over every imported person, and on
// PostgreSQL Settle for the five demo persons B0–B4 (the busy ward: each
// person's settlements run one at a time); with OpenTelemetry on
// (otelStore), the empty RPC and Settle only.
func callsFor(store string, persons int) []call {
	spread := people{personPrefix, persons}
	crowd := thousands(float64(persons)) + " persons"
	calls := []call{
		{id: "health", label: "Health/Check", method: "grpc.health.v1.Health.Check", empty: true,
			data: func() map[string]any { return map[string]any{} }},
		{id: "presettle", label: "PreSettle (" + crowd + ")", method: "medsettle.v1.SettlementService.PreSettle",
			who: spread, target: targets[store+"/PreSettle"]},
		{id: "settle", label: "Settle (" + crowd + ")", method: "medsettle.v1.SettlementService.Settle",
			who: spread, target: targets[store+"/Settle"]},
	}
	if store == otelStore {
		// OpenTelemetry's cost: the empty RPC and Settle.
		return []call{calls[0], calls[2]}
	}
	if store == "pgstore" {
		calls = append(calls, call{id: "settle5", label: "Settle (5 persons, busy ward)", method: "medsettle.v1.SettlementService.Settle",
			who: people{"B", 5}, target: targets[store+"/SettleBusy"]})
	}
	return calls
}

// requestPrefix starts the request ids of c in one phase ("warmup", "r1",
// …) of the run tagged runID: lt-<run>-<row>-<phase>, then -<n> for the
// n-th request, so that every request of every row and phase of every run
// has its own id.
func (c call) requestPrefix(runID, phase string) string {
	return fmt.Sprintf("lt-%s-%s-%s", runID, c.id, phase)
}

// requestJSON is the -d argument of ghz for the empty RPC c.
func (c call) requestJSON() (string, error) {
	b, err := json.Marshal(c.data())
	if err != nil {
		return "", fmt.Errorf("request of %s: %w", c.label, err)
	}
	return string(b), nil
}
