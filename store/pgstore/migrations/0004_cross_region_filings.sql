-- medsettle schema, version 4: cross-region filings (异地就医备案,
-- SETTLEMENT.md "Cross-region care"). A filing registers a person for care
-- at the institutions of one region for a span of dates; settlements read
-- the person's filings after taking the person's row lock, and
-- PutFiling writes a filing under the same lock.

CREATE TABLE cross_region_filings (
    filing_id  text PRIMARY KEY,
    person_id  text NOT NULL REFERENCES persons,
    region     text NOT NULL,
    valid_from date NOT NULL,
    valid_to   date NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (valid_from <= valid_to)
);

-- A person's filings in list order (valid_from, then id in byte order),
-- read by an index-only scan.
CREATE INDEX cross_region_filings_person ON cross_region_filings
    (person_id, valid_from, filing_id COLLATE "C") INCLUDE (region, valid_to);
