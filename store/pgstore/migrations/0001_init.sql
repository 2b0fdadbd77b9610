-- medsettle schema, version 1. Runs with search_path set to the store's
-- schema, inside one transaction, under the migration advisory lock.

CREATE TABLE persons (
    person_id          text PRIMARY KEY,
    name               text NOT NULL,
    region             text NOT NULL,
    scheme             smallint NOT NULL,
    employment         smallint NOT NULL,
    category           smallint NOT NULL,
    contribution_years integer NOT NULL,
    account_balance    numeric(20, 2) NOT NULL CHECK (account_balance >= 0)
);

CREATE TABLE institutions (
    institution_id text PRIMARY KEY,
    name           text NOT NULL,
    region         text NOT NULL,
    level          smallint NOT NULL
);

CREATE TABLE institution_budgets (
    institution_id text NOT NULL REFERENCES institutions ON DELETE CASCADE,
    year           integer NOT NULL,
    amount         numeric(20, 2) NOT NULL,
    PRIMARY KEY (institution_id, year)
);

-- One row per policy version; document is the engine policy as JSON.
CREATE TABLE policies (
    region         text NOT NULL,
    scheme         smallint NOT NULL,
    version        text NOT NULL,
    effective_from date NOT NULL,
    effective_to   date NOT NULL,
    document       jsonb NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (region, scheme, version)
);

-- A person's accumulators for one policy year. Settlements of a person are
-- serialized by locking the person's row (SELECT … FOR UPDATE).
CREATE TABLE person_years (
    person_id    text NOT NULL REFERENCES persons,
    year         integer NOT NULL,
    accumulators jsonb NOT NULL,
    PRIMARY KEY (person_id, year)
);

CREATE SEQUENCE settlement_seq;

CREATE TABLE settlements (
    settlement_id       text PRIMARY KEY,
    institution_id      text NOT NULL,
    request_id          text NOT NULL,
    person_id           text NOT NULL,
    visit_type          smallint NOT NULL,
    settle_date         date NOT NULL,
    year                integer NOT NULL,
    state               smallint NOT NULL,
    fingerprint         text NOT NULL,
    claim               jsonb NOT NULL,
    result              jsonb NOT NULL,
    total               numeric(20, 2) NOT NULL,
    basic_fund          numeric(20, 2) NOT NULL,
    fund_total          numeric(20, 2) NOT NULL,
    account             numeric(20, 2) NOT NULL,
    reversal_request_id text,
    reversal_reason     text,
    settled_at          timestamptz NOT NULL,
    reversed_at         timestamptz
);
CREATE INDEX settlements_institution_date ON settlements (institution_id, settle_date);
CREATE INDEX settlements_person_year ON settlements (person_id, year);

-- The idempotency keys of settlements and reversals: one namespace per
-- institution, enforced by the primary key.
CREATE TABLE request_keys (
    institution_id text NOT NULL,
    request_id     text NOT NULL,
    fingerprint    text NOT NULL,
    settlement_id  text NOT NULL REFERENCES settlements,
    PRIMARY KEY (institution_id, request_id)
);

-- Institution budget usage, split into shards by person so that the
-- settlements of one hospital do not queue behind a single hot row; the
-- usage is the sum of the shards.
CREATE TABLE budget_usage (
    institution_id text NOT NULL,
    year           integer NOT NULL,
    shard          smallint NOT NULL,
    used           numeric(20, 2) NOT NULL,
    PRIMARY KEY (institution_id, year, shard)
);
