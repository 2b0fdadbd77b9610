package memstore

import (
	"context"
	"errors"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// errTODO marks the clearing methods not written yet.
var errTODO = errors.New("clearing: not implemented yet")

// RunClearing is not implemented yet.
func (s *Store) RunClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	return engine.ClearingRun{}, errTODO
}

// GetClearingRun is not implemented yet.
func (s *Store) GetClearingRun(ctx context.Context, runID string) (engine.ClearingRun, error) {
	return engine.ClearingRun{}, errTODO
}

// StatementCases is not implemented yet.
func (s *Store) StatementCases(ctx context.Context, runID, institutionID, after string, limit int) ([]engine.CaseLine, error) {
	return nil, errTODO
}

// PutContract is not implemented yet.
func (s *Store) PutContract(ctx context.Context, c engine.CapitationContract) error { return errTODO }

// GetContract is not implemented yet.
func (s *Store) GetContract(ctx context.Context, id string) (engine.CapitationContract, error) {
	return engine.CapitationContract{}, errTODO
}

// EnrollMembers is not implemented yet.
func (s *Store) EnrollMembers(ctx context.Context, contractID string, personIDs []string) (int64, []store.EnrollRejection, error) {
	return 0, nil, errTODO
}

// Reconcile is not implemented yet.
func (s *Store) Reconcile(ctx context.Context, q store.ReconcileQuery) (store.ReconcileResult, error) {
	return store.ReconcileResult{}, errTODO
}
