-- medsettle schema, version 11: a visit is marked settled in the
-- settlement's own transaction (store.VisitStore.SettleVisit).
--
-- details_version counts the changes to a visit's live fee details
-- (every PutFeeDetails and CancelFeeDetails that changes something adds
-- one): SettleVisit settles only the details the caller read. settled_at
-- is when the live settlement committed, settle_msgid and
-- settle_cert_type the msgid and mdtrt_cert_type of the national call
-- that settled it. All three are empty while the visit is not SETTLED
-- (a CHECK), and for a visit SETTLED otherwise than by SettleVisit (before
-- this version, or healed by MarkVisitSettled), which answers from the
-- audit log as before. Adding columns with constant defaults rewrites
-- nothing; the CHECK reads every visit once.
ALTER TABLE visits
    ADD COLUMN details_version  bigint NOT NULL DEFAULT 0 CHECK (details_version >= 0),
    ADD COLUMN settled_at       timestamptz,
    ADD COLUMN settle_msgid     text NOT NULL DEFAULT '',
    ADD COLUMN settle_cert_type text NOT NULL DEFAULT '',
    -- What the settling call left is kept only while the visit is SETTLED.
    ADD CONSTRAINT visits_settle_fields_settled
        CHECK (state = 2 OR (settled_at IS NULL AND settle_msgid = '' AND settle_cert_type = ''));
