-- medsettle schema, version 10: the national gateway's visits and fee
-- details (issue 12, GATEWAY.md "Visits", store.VisitStore).
--
-- A visit (mdtrt_id) belongs to one institution and person; OpenVisit is
-- idempotent on the institution's own number (unique (institution_id,
-- kind, number)). kind, state and scheme are the enum values of
-- store.VisitKind, store.VisitState and engine.Scheme. Every call that
-- checks a visit's state and then writes (details, cancellation,
-- settlement, reopening, discharge) holds the visit's row lock
-- (SELECT … FOR UPDATE), so a check and its write are one step.
-- detail_rows counts the lines the visit was ever given (cancelled ones
-- included): the next line's seq, and the bound store.MaxVisitDetailRows.
CREATE TABLE visits (
    visit_id               text PRIMARY KEY CHECK (length(visit_id) BETWEEN 1 AND 30),
    institution_id         text NOT NULL,
    person_id              text NOT NULL REFERENCES persons,
    kind                   smallint NOT NULL CHECK (kind IN (1, 2)),
    number                 text NOT NULL,
    scheme                 smallint NOT NULL,
    med_type               text NOT NULL,
    begin_time             text NOT NULL,
    state                  smallint NOT NULL CHECK (state IN (1, 2, 3)),
    settlement_id          text NOT NULL DEFAULT '',
    generation             integer NOT NULL DEFAULT 0 CHECK (generation >= 0),
    reversed_settlement_id text NOT NULL DEFAULT '',
    discharge              text NOT NULL DEFAULT '',
    detail_rows            integer NOT NULL DEFAULT 0 CHECK (detail_rows >= 0),
    opened_at              timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    UNIQUE (institution_id, kind, number),
    -- A settlement id exactly while SETTLED.
    CHECK ((state = 2) = (settlement_id <> ''))
);

-- fee_details holds every line a visit was given, in upload order (seq,
-- numbered per visit from visits.detail_rows). A cancelled line is kept,
-- with cancelled_at set, as the record of what was billed and withdrawn;
-- its SN may then be uploaded again. Live lines are unique per (visit_id,
-- sn). Figures are exact NUMERICs of the engine's scales: quantity 4
-- decimals, unit_price 6 (the national pric 16,6), amount 2.
CREATE TABLE fee_details (
    visit_id     text NOT NULL REFERENCES visits,
    seq          integer NOT NULL CHECK (seq >= 1),
    sn           text NOT NULL CHECK (sn <> ''),
    batch        text NOT NULL,
    code         text NOT NULL,
    name         text NOT NULL,
    quantity     numeric(20, 4) NOT NULL CHECK (quantity >= 0),
    unit_price   numeric(20, 6) NOT NULL CHECK (unit_price >= 0),
    amount       numeric(20, 2) NOT NULL CHECK (amount >= 0),
    fee_time     text NOT NULL,
    med_type     text NOT NULL,
    uploaded_at  timestamptz NOT NULL,
    cancelled_at timestamptz,
    PRIMARY KEY (visit_id, seq)
);

CREATE UNIQUE INDEX fee_details_live_sn ON fee_details (visit_id, sn) WHERE cancelled_at IS NULL;
