-- medsettle schema, version 8: request keys without a foreign key (issue 9).
--
-- Every key row fired a trigger that looked up and share-locked its
-- settlement, which the same statement had just inserted: a lock record in
-- the WAL and a dirtied heap page per settlement, for a reference the code
-- guarantees otherwise. A settlement's key is inserted by the statement
-- that inserts the settlement (group or single), a reversal's key names the
-- settlement it reversed under its person's lock, and settlements are never
-- deleted.
ALTER TABLE request_keys DROP CONSTRAINT request_keys_settlement_id_fkey;
