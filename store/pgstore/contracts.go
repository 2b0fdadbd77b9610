package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// PutContract creates or replaces a capitation contract's terms, its
// components and shares in the order given; its members stay. See
// store.ClearingStore. The contract's row is locked for the change, so an
// enrolment (which holds it shared) never checks members against terms
// being replaced.
func (s *Store) PutContract(ctx context.Context, c engine.CapitationContract) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, s.sql(`SELECT 1 FROM {s}.institutions WHERE institution_id = $1 FOR SHARE`), c.InstitutionID).Scan(&one)
		if err != nil {
			return fmt.Errorf("lead institution %q of contract %q: %w", c.InstitutionID, c.ContractID, translate(err))
		}
		var region string
		var scheme int16
		var year int
		err = tx.QueryRow(ctx, s.sql(`SELECT region, scheme, year FROM {s}.capitation_contracts WHERE contract_id = $1 FOR UPDATE`),
			c.ContractID).Scan(&region, &scheme, &year)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return translate(err)
		case region != c.Region || engine.Scheme(scheme) != c.Scheme || year != c.Year:
			var members bool
			if err := tx.QueryRow(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {s}.contract_members WHERE contract_id = $1)`),
				c.ContractID).Scan(&members); err != nil {
				return translate(err)
			}
			if members {
				return fmt.Errorf("contract %q (region %s, %s, %d) cannot move to region %s, %s, %d: %w",
					c.ContractID, region, engine.Scheme(scheme), year, c.Region, c.Scheme, c.Year, engine.ErrContractInUse)
			}
		}
		b := &pgx.Batch{}
		b.Queue(s.sql(`INSERT INTO {s}.capitation_contracts (contract_id, institution_id, region, scheme, year, overspend_share,
				overspend_tolerance, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (contract_id) DO UPDATE SET institution_id = $2, region = $3, scheme = $4, year = $5,
				overspend_share = $6, overspend_tolerance = $7, updated_at = $8`),
			c.ContractID, c.InstitutionID, c.Region, int16(c.Scheme), c.Year, c.OverspendShare, c.OverspendTolerance, s.now())
		b.Queue(s.sql(`DELETE FROM {s}.capitation_components WHERE contract_id = $1`), c.ContractID)
		b.Queue(s.sql(`DELETE FROM {s}.capitation_shares WHERE contract_id = $1`), c.ContractID)
		insertComp := s.sql(`INSERT INTO {s}.capitation_components (contract_id, position, name, rate, visit_types) VALUES ($1, $2, $3, $4, $5)`)
		for i, comp := range c.Components {
			vts := make([]int16, len(comp.VisitTypes))
			for j, v := range comp.VisitTypes {
				vts[j] = int16(v)
			}
			b.Queue(insertComp, c.ContractID, i, comp.Name, comp.Rate, vts)
		}
		insertShare := s.sql(`INSERT INTO {s}.capitation_shares (contract_id, position, party, share) VALUES ($1, $2, $3, $4)`)
		for i, sh := range c.Shares {
			b.Queue(insertShare, c.ContractID, i, sh.Party, sh.Share)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("store contract %q: %w", c.ContractID, translate(err))
		}
		return nil
	})
}

// GetContract reads a contract, its components and shares in order and its
// member count, from one snapshot; see store.ClearingStore.
func (s *Store) GetContract(ctx context.Context, id string) (engine.CapitationContract, error) {
	var c engine.CapitationContract
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var scheme int16
		err := tx.QueryRow(ctx, s.sql(`SELECT contract_id, institution_id, region, scheme, year, overspend_share, overspend_tolerance,
				(SELECT count(*) FROM {s}.contract_members m WHERE m.contract_id = c.contract_id)
			FROM {s}.capitation_contracts c WHERE contract_id = $1`), id).Scan(&c.ContractID, &c.InstitutionID, &c.Region, &scheme,
			&c.Year, &c.OverspendShare, &c.OverspendTolerance, &c.Members)
		if err != nil {
			return fmt.Errorf("contract %q: %w", id, translate(err))
		}
		c.Scheme = engine.Scheme(scheme)
		rows, err := tx.Query(ctx, s.sql(`SELECT name, rate, visit_types FROM {s}.capitation_components
			WHERE contract_id = $1 ORDER BY position`), id)
		if err != nil {
			return translate(err)
		}
		c.Components, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.CapitationComponent, error) {
			var comp engine.CapitationComponent
			var vts []int16
			if err := r.Scan(&comp.Name, &comp.Rate, &vts); err != nil {
				return comp, err
			}
			for _, v := range vts {
				comp.VisitTypes = append(comp.VisitTypes, engine.VisitType(v))
			}
			return comp, nil
		})
		if err != nil {
			return translate(err)
		}
		rows, err = tx.Query(ctx, s.sql(`SELECT party, share FROM {s}.capitation_shares WHERE contract_id = $1 ORDER BY position`), id)
		if err != nil {
			return translate(err)
		}
		c.Shares, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.CapitationShare, error) {
			var sh engine.CapitationShare
			err := r.Scan(&sh.Party, &sh.Share)
			return sh, err
		})
		return translate(err)
	})
	if err != nil {
		return engine.CapitationContract{}, err
	}
	return c, nil
}

// EnrollMembers' statements, run with custom plans (customPlansSQL).
const (
	// enrollCheckSQL reads each person's region, scheme and contract
	// for the year, in the order of the ids.
	enrollCheckSQL = `SELECT u.ord, p.region, p.scheme, m.contract_id
		FROM unnest($1::text[]) WITH ORDINALITY AS u(person_id, ord)
		LEFT JOIN {s}.persons p ON p.person_id = u.person_id
		LEFT JOIN {s}.contract_members m ON m.person_id = u.person_id AND m.year = $2`
	// enrollLockSQL holds the new members' persons (KEY SHARE) in the
	// order group commit locks persons.
	enrollLockSQL = `SELECT 1 FROM {s}.persons WHERE person_id = ANY($1::text[])
		ORDER BY person_id COLLATE "C" FOR KEY SHARE`
	// enrollOthersSQL reads the contracts of the year of persons enrolled
	// meanwhile.
	enrollOthersSQL = `SELECT person_id, contract_id FROM {s}.contract_members
		WHERE person_id = ANY($1::text[]) AND year = $2`
)

// EnrollMembers enrols persons in a contract in one transaction; see
// store.ClearingStore. The contract's row is held shared, so its terms do
// not change meanwhile; the persons are checked in one statement and the
// new members inserted in another. A person enrolled in another contract
// for the year by a transaction committing meanwhile is caught by the
// UNIQUE (person_id, year) constraint (the insert waits for it, then skips
// the person) and refused like the others.
func (s *Store) EnrollMembers(ctx context.Context, contractID string, personIDs []string) (int64, []store.EnrollRejection, error) {
	var enrolled int64
	var rejected []store.EnrollRejection
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		enrolled, rejected = 0, nil
		// Its statements look up thousands of persons by key: planned
		// for the tables as they are, never with a generic plan cached
		// while they were small (customPlansSQL).
		if _, err := tx.Exec(ctx, customPlansSQL); err != nil {
			return translate(err)
		}
		var region string
		var scheme int16
		var year int
		err := tx.QueryRow(ctx, s.sql(`SELECT region, scheme, year FROM {s}.capitation_contracts WHERE contract_id = $1 FOR SHARE`),
			contractID).Scan(&region, &scheme, &year)
		if err != nil {
			return fmt.Errorf("contract %q: %w", contractID, translate(err))
		}
		if len(personIDs) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, s.sql(enrollCheckSQL), personIDs, year)
		if err != nil {
			return translate(err)
		}
		reasons := make([]string, len(personIDs))
		fresh := map[string]bool{}
		var insert []string
		for rows.Next() {
			var ord int64
			var pRegion, member *string
			var pScheme *int16
			if err := rows.Scan(&ord, &pRegion, &pScheme, &member); err != nil {
				rows.Close()
				return translate(err)
			}
			i := int(ord - 1)
			id := personIDs[i]
			switch {
			case pRegion == nil:
				reasons[i] = "unknown person"
			case *pRegion != region || engine.Scheme(*pScheme) != engine.Scheme(scheme):
				reasons[i] = fmt.Sprintf("insured in region %s under %s; contract %s is for region %s under %s",
					*pRegion, engine.Scheme(*pScheme), contractID, region, engine.Scheme(scheme))
			case member != nil && *member != contractID:
				reasons[i] = fmt.Sprintf("enrolled in contract %s for %d", *member, year)
			case member == nil && !fresh[id]:
				fresh[id] = true
				insert = append(insert, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		if len(insert) > 0 {
			// The members' foreign keys hold their persons (KEY SHARE):
			// taken first in the order group commit locks persons, so
			// that they never wait for a group in a cycle.
			if _, err := tx.Exec(ctx, s.sql(enrollLockSQL), insert); err != nil {
				return translate(err)
			}
			rows, err := tx.Query(ctx, s.sql(`INSERT INTO {s}.contract_members (contract_id, person_id, year)
				SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING RETURNING person_id`), contractID, insert, year)
			if err != nil {
				return translate(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return translate(err)
			}
			if len(got) < len(insert) {
				// Some were enrolled by a transaction that committed
				// meanwhile: in this contract (fine) or another (refused).
				inserted := make(map[string]bool, len(got))
				for _, id := range got {
					inserted[id] = true
				}
				var missing []string
				for _, id := range insert {
					if !inserted[id] {
						missing = append(missing, id)
					}
				}
				rows, err := tx.Query(ctx, s.sql(enrollOthersSQL), missing, year)
				if err != nil {
					return translate(err)
				}
				other := map[string]string{}
				for rows.Next() {
					var id, c string
					if err := rows.Scan(&id, &c); err != nil {
						rows.Close()
						return translate(err)
					}
					if c != contractID {
						other[id] = c
					}
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return translate(err)
				}
				for i, id := range personIDs {
					if c, ok := other[id]; ok && reasons[i] == "" {
						reasons[i] = fmt.Sprintf("enrolled in contract %s for %d", c, year)
					}
				}
			}
		}
		for i, id := range personIDs {
			if reasons[i] != "" {
				rejected = append(rejected, store.EnrollRejection{PersonID: id, Reason: reasons[i]})
				continue
			}
			enrolled++
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return enrolled, rejected, nil
}
