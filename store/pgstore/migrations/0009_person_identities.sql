-- medsettle schema, version 9: persons' dated identities (issue 11).
--
-- identities is a flat integer array of triples (category code, valid_from
-- as YYYYMMDD, valid_to as YYYYMMDD), in the order given (the API gives
-- them in canonical order: valid_from, category, valid_to): every read of a person reads it with the row, in
-- the statements that read persons now (no join, no second round trip),
-- and it stays readable in psql ({3,20260101,20261231}). The category
-- codes are the enum values of engine.Category, as the category column's.
-- Adding a column with a constant default rewrites nothing.
ALTER TABLE persons ADD COLUMN identities integer[] NOT NULL DEFAULT '{}'
    CONSTRAINT persons_identities_triples CHECK (cardinality(identities) % 3 = 0);

-- EachPerson walks one region and scheme in person id byte order: this
-- index hands the rows over in that order, so a region of a million
-- persons streams from the first row instead of being sorted first. It
-- does not hold account_balance, so a settlement's balance update stays a
-- HOT update.
CREATE INDEX persons_region_scheme_id ON persons (region, scheme, person_id COLLATE "C");
