-- medsettle schema, version 11: a visit is marked settled in the
-- settlement's own transaction (store.VisitStore.SettleVisit).
--
-- details_version counts the changes to a visit's live fee details
-- (every PutFeeDetails and CancelFeeDetails that changes something adds
-- one): SettleVisit settles only the details the caller read. settled_at
-- is when the live settlement committed, settle_msgid and
-- settle_cert_type the msgid and mdtrt_cert_type of the national call
-- that settled it; all three are empty while the visit is not SETTLED by
-- SettleVisit (a visit settled before this version answers from the
-- audit log, as before). Adding columns with constant defaults rewrites
-- nothing.
ALTER TABLE visits
    ADD COLUMN details_version  bigint NOT NULL DEFAULT 0 CHECK (details_version >= 0),
    ADD COLUMN settled_at       timestamptz,
    ADD COLUMN settle_msgid     text NOT NULL DEFAULT '',
    ADD COLUMN settle_cert_type text NOT NULL DEFAULT '';
