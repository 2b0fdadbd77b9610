package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/examples"
	"github.com/medsettle/medsettle/store"
)

// loadInitialData loads the demo data and the --policy files into st.
func loadInitialData(ctx context.Context, st store.Store, demo bool, policyFiles []string, log *slog.Logger) error {
	if demo {
		files, err := fs.Glob(examples.FS, "policies/*.json")
		if err != nil {
			return err
		}
		for _, name := range files {
			raw, err := examples.FS.ReadFile(name)
			if err != nil {
				return err
			}
			if err := putPolicy(ctx, st, name, raw); err != nil {
				return err
			}
		}
		raw, err := examples.FS.ReadFile("demo/registry.json")
		if err != nil {
			return err
		}
		n, m, err := loadRegistry(ctx, st, raw)
		if err != nil {
			return fmt.Errorf("demo registry: %w", err)
		}
		log.Info("demo data loaded", "policies", len(files), "institutions", n, "persons", m)
	}
	for _, path := range policyFiles {
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		if err := putPolicy(ctx, st, path, raw); err != nil {
			return err
		}
		log.Info("policy loaded", "file", path)
	}
	return nil
}

func putPolicy(ctx context.Context, st store.Store, name string, raw []byte) error {
	p, err := api.ParsePolicyJSON(raw)
	if err == nil {
		err = st.PutPolicy(ctx, p)
	}
	if err != nil {
		return fmt.Errorf("policy file %s: %w", name, err)
	}
	return nil
}

// loadRegistry reads {"institutions": [...], "persons": [...]} and stores
// the ones that do not exist yet, so that restarting a PostgreSQL server
// with --demo keeps balances as they are.
func loadRegistry(ctx context.Context, st store.Store, raw []byte) (int, int, error) {
	var doc struct {
		Institutions []json.RawMessage `json:"institutions"`
		Persons      []json.RawMessage `json:"persons"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, 0, err
	}
	for i, r := range doc.Institutions {
		in, err := api.ParseInstitutionJSON(r)
		if err == nil {
			err = putIfAbsent(func() error { _, err := st.GetInstitution(ctx, in.ID); return err },
				func() error { return st.PutInstitution(ctx, in) })
		}
		if err != nil {
			return 0, 0, fmt.Errorf("institution %d: %w", i, err)
		}
	}
	for i, r := range doc.Persons {
		p, err := api.ParsePersonJSON(r)
		if err == nil {
			err = putIfAbsent(func() error { _, err := st.GetPerson(ctx, p.ID); return err },
				func() error { return st.PutPerson(ctx, p) })
		}
		if err != nil {
			return 0, 0, fmt.Errorf("person %d: %w", i, err)
		}
	}
	return len(doc.Institutions), len(doc.Persons), nil
}

// putIfAbsent calls put when get says store.ErrNotFound.
func putIfAbsent(get, put func() error) error {
	err := get()
	if errors.Is(err, store.ErrNotFound) {
		return put()
	}
	return err
}
