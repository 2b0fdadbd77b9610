-- medsettle schema, version 3: fund clearing (CLEARING.md).
--
-- Settlements get the columns clearing selects and sums on, as typed
-- columns beside the JSON documents, so that a run never decodes JSON:
-- the policy (region, scheme) the settlement used, its DRG code and its
-- personal total (psn_part_amt). Rows written before this version are
-- backfilled from their documents; the policy region and scheme of a result
-- that predates them are the person's.
--
-- Clearing runs, their institution lines and their case lines, and the
-- capitation contracts with their members are stored in explicit typed
-- columns (no JSON of engine structs), a format that survives refactors.

ALTER TABLE settlements
    ADD COLUMN policy_region  text,
    ADD COLUMN policy_scheme  smallint,
    ADD COLUMN drg_code       text,
    ADD COLUMN personal_total numeric(20, 2);

UPDATE settlements s SET
    policy_region = coalesce(nullif(s.result->>'PolicyRegion', ''),
                             (SELECT p.region FROM persons p WHERE p.person_id = s.person_id), ''),
    policy_scheme = coalesce(nullif((s.result->>'PolicyScheme')::smallint, 0),
                             (SELECT p.scheme FROM persons p WHERE p.person_id = s.person_id), 0),
    drg_code = coalesce(s.claim->>'DRGCode', ''),
    personal_total = coalesce((s.result->'Breakdown'->>'PersonalTotal')::numeric, 0);

ALTER TABLE settlements
    ALTER COLUMN policy_region SET NOT NULL,
    ALTER COLUMN policy_scheme SET NOT NULL,
    ALTER COLUMN drg_code SET NOT NULL,
    ALTER COLUMN personal_total SET NOT NULL;

-- The selections of clearing and reconciliation, each answered by an
-- index-only scan: the indexes carry every column a run reads, so a run
-- never touches the wide rows (claim and result documents) of the heap.
-- Ids sort in byte order (COLLATE "C"), as statements page them.
--
-- DRG: a region-scheme-year's inpatient settlements, by institution and id
-- (the order the run's case lines are stored in).
CREATE INDEX settlements_clearing_drg ON settlements
    (policy_region, policy_scheme, year, institution_id COLLATE "C", settlement_id COLLATE "C")
    INCLUDE (state, settle_date, request_id, drg_code, total, personal_total, basic_fund)
    WHERE visit_type = 1;
-- BUDGET and Reconcile: an institution's settlements by date and id. It
-- replaces settlements_institution_date, which had the same leading key.
CREATE INDEX settlements_institution_clearing ON settlements
    (institution_id, settle_date, settlement_id COLLATE "C")
    INCLUDE (state, visit_type, policy_scheme, request_id, drg_code, total, personal_total, basic_fund, fund_total, account);
DROP INDEX settlements_institution_date;
-- CAPITATION: a member's settlements of a year. It replaces
-- settlements_person_year, which had the same leading key.
CREATE INDEX settlements_person_clearing ON settlements
    (person_id, year, settle_date)
    INCLUDE (state, visit_type, institution_id, settlement_id, request_id, drg_code, total, personal_total, basic_fund);
DROP INDEX settlements_person_year;

-- Capitation contracts (按人头包干): terms, components and surplus shares
-- in the order given, and members, a person in at most one contract a year.
CREATE TABLE capitation_contracts (
    contract_id         text PRIMARY KEY,
    institution_id      text NOT NULL REFERENCES institutions,
    region              text NOT NULL,
    scheme              smallint NOT NULL,
    year                integer NOT NULL,
    overspend_share     numeric NOT NULL,
    overspend_tolerance numeric NOT NULL,
    updated_at          timestamptz NOT NULL
);

CREATE TABLE capitation_components (
    contract_id text NOT NULL REFERENCES capitation_contracts ON DELETE CASCADE,
    position    integer NOT NULL,
    name        text NOT NULL,
    rate        numeric(20, 2) NOT NULL,
    visit_types smallint[] NOT NULL,
    PRIMARY KEY (contract_id, position)
);

CREATE TABLE capitation_shares (
    contract_id text NOT NULL REFERENCES capitation_contracts ON DELETE CASCADE,
    position    integer NOT NULL,
    party       text NOT NULL,
    share       numeric NOT NULL,
    PRIMARY KEY (contract_id, position)
);

CREATE TABLE contract_members (
    contract_id text NOT NULL REFERENCES capitation_contracts,
    person_id   text NOT NULL REFERENCES persons,
    year        integer NOT NULL,
    PRIMARY KEY (contract_id, person_id),
    UNIQUE (person_id, year)
);

-- Clearing runs. run_key is what a draft replaces (engine.ClearingRun.RunKey),
-- final_scope what final runs must not overlap in (FinalScope). Figures
-- that do not apply to the run's kind are zero; the capitation figures are
-- NULL except on capitation runs.
CREATE SEQUENCE clearing_run_seq;

CREATE TABLE clearing_runs (
    run_id               text PRIMARY KEY,
    kind                 smallint NOT NULL,
    region               text NOT NULL,
    scheme               smallint NOT NULL,
    contract_id          text NOT NULL,
    year                 integer NOT NULL,
    period_from          date NOT NULL,
    period_to            date NOT NULL,
    final                boolean NOT NULL,
    run_key              text NOT NULL,
    final_scope          text NOT NULL,
    settlements          bigint NOT NULL,
    ungrouped            bigint NOT NULL,
    ungrouped_basic_fund numeric(20, 2) NOT NULL,
    budget               numeric(20, 2) NOT NULL,
    personal_total       numeric(20, 2) NOT NULL,
    total_points         numeric NOT NULL,
    point_value          numeric NOT NULL,
    paid_total           numeric(20, 2) NOT NULL,
    cap_contract_id      text,
    cap_members          bigint,
    cap_budget           numeric(20, 2),
    cap_actual           numeric(20, 2),
    cap_surplus          numeric(20, 2),
    cap_deficit          numeric(20, 2),
    cap_fund_covers      numeric(20, 2),
    cap_contract_bears   numeric(20, 2),
    created_at           timestamptz NOT NULL
);
-- One draft per key; final runs are found by scope.
CREATE UNIQUE INDEX clearing_runs_draft ON clearing_runs (run_key) WHERE NOT final;
CREATE INDEX clearing_runs_final ON clearing_runs (final_scope, period_from) WHERE final;

-- A capitation run's components (K_c, A_c) and surplus shares, in order.
CREATE TABLE clearing_run_components (
    run_id   text NOT NULL REFERENCES clearing_runs ON DELETE CASCADE,
    position integer NOT NULL,
    name     text NOT NULL,
    budget   numeric(20, 2) NOT NULL,
    actual   numeric(20, 2) NOT NULL,
    PRIMARY KEY (run_id, position)
);

CREATE TABLE clearing_run_shares (
    run_id   text NOT NULL REFERENCES clearing_runs ON DELETE CASCADE,
    position integer NOT NULL,
    party    text NOT NULL,
    amount   numeric(20, 2) NOT NULL,
    PRIMARY KEY (run_id, position)
);

-- A run's institution lines: the DRG figures (cases to difference) or the
-- BUDGET ones (budget to paid).
CREATE TABLE clearing_lines (
    run_id         text NOT NULL REFERENCES clearing_runs ON DELETE CASCADE,
    institution_id text COLLATE "C" NOT NULL,
    cases          bigint NOT NULL,
    points         numeric NOT NULL,
    personal_total numeric(20, 2) NOT NULL,
    basic_fund     numeric(20, 2) NOT NULL,
    payment        numeric(20, 2) NOT NULL,
    difference     numeric(20, 2) NOT NULL,
    budget         numeric(20, 2) NOT NULL,
    claimed        numeric(20, 2) NOT NULL,
    retained       numeric(20, 2) NOT NULL,
    shared         numeric(20, 2) NOT NULL,
    paid           numeric(20, 2) NOT NULL,
    PRIMARY KEY (run_id, institution_id)
);

-- A DRG run's case lines, the statements' detail. No foreign key: a run
-- writes a million of them with COPY before its run row exists, and the
-- store deletes them with their run.
CREATE TABLE clearing_cases (
    run_id         text NOT NULL,
    institution_id text COLLATE "C" NOT NULL,
    settlement_id  text COLLATE "C" NOT NULL,
    request_id     text NOT NULL,
    settle_date    date NOT NULL,
    drg_code       text NOT NULL,
    total          numeric(20, 2) NOT NULL,
    ratio          numeric NOT NULL,
    cost_kind      smallint NOT NULL,
    points         numeric NOT NULL,
    personal_total numeric(20, 2) NOT NULL,
    basic_fund     numeric(20, 2) NOT NULL,
    PRIMARY KEY (run_id, institution_id, settlement_id)
);
