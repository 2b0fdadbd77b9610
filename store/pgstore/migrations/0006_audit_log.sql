-- medsettle schema, version 6: the audit log (issue 8). One row for every
-- state-changing call, appended after the call; never changed or removed:
-- the triggers below refuse UPDATE, DELETE and TRUNCATE, whoever asks.

CREATE TABLE audit_events (
    event_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                 timestamptz NOT NULL,
    role               text NOT NULL,
    caller_institution text NOT NULL,
    method             text NOT NULL,
    request_id         text NOT NULL,
    settlement_id      text NOT NULL,
    person_id          text NOT NULL,
    institution_id     text NOT NULL,
    region             text NOT NULL,
    scheme             text NOT NULL,
    version            text NOT NULL,
    run_id             text NOT NULL,
    contract_id        text NOT NULL,
    filing_id          text NOT NULL,
    message_count      bigint NOT NULL,
    code               integer NOT NULL,
    result_ids         text[] NOT NULL
);

-- ListEvents' selective filters (a request id, a person, a time range)
-- read an index, in id order; the other filters scan in id order, one
-- page at a time. Each index is a write of every audited call: no more.
CREATE INDEX audit_events_request ON audit_events (request_id, event_id);
CREATE INDEX audit_events_person ON audit_events (person_id, event_id);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
