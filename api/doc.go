// Package api is medsettle's gRPC face: it checks and maps requests to
// engine types, calls the engine and the store, maps results back to proto,
// enforces access by role, and turns every error into one status code
// (errors.go).
package api
