-- medsettle schema, version 5: account adjustments (AdjustAccount, API.md
-- "Registry"). An administrator's credit or debit of a person's personal
-- account, recorded like a settlement: who, when, the amounts, the reason
-- and the person as it left them (the answer every retry gets). Request
-- ids are a namespace of their own: the primary key is the request id
-- alone, apart from settlements' (institution, request id).

CREATE TABLE account_adjustments (
    request_id  text PRIMARY KEY,
    person_id   text NOT NULL REFERENCES persons,
    credit      numeric(20, 2) NOT NULL CHECK (credit >= 0),
    debit       numeric(20, 2) NOT NULL CHECK (debit >= 0),
    reason      text NOT NULL,
    adjusted_by text NOT NULL,
    adjusted_at timestamptz NOT NULL,
    -- The person after the adjustment (engine.Person as JSON).
    person      jsonb NOT NULL,
    CHECK ((credit = 0) <> (debit = 0))
);

-- A person's adjustments in time order.
CREATE INDEX account_adjustments_person ON account_adjustments (person_id, adjusted_at);
