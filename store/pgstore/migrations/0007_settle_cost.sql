-- medsettle schema, version 7: a settlement costs PostgreSQL less (issue 9).
--
-- The documents a settlement writes (its claim and result, the person's
-- accumulators) are json, not jsonb: no query looks inside them (clearing
-- and reconciliation read the typed columns), so jsonb's binary form was
-- built on every insert and turned back into text on every read for
-- nothing, and ANALYZE sorted the jsonb values of every sampled row to
-- build statistics no query uses. json keeps the text as written (still
-- checked to be JSON), which also lets the store recognise a document it
-- wrote itself byte for byte (pgstore's accumulators memo).
ALTER TABLE settlements
    ALTER COLUMN claim TYPE json USING claim::json,
    ALTER COLUMN result TYPE json USING result::json;
ALTER TABLE person_years
    ALTER COLUMN accumulators TYPE json USING accumulators::json;

-- Every settlement updates its person-year and may update its person's
-- balance: room left on each page keeps those updates HOT (the new row
-- version on the same page, no index entry). Pages written from now on.
ALTER TABLE person_years SET (fillfactor = 80);
ALTER TABLE persons SET (fillfactor = 90);
