-- medsettle schema, version 13: a reversed settlement keeps the person's
-- account balance right after its reversal.
--
-- balance_after_reversal is the balance Reverse read under the person's
-- lock plus what the reversal gave back to the account, written in the
-- reversal's own transaction (engine.Settlement.BalanceAfterReversal): the
-- national interface answers it as a reversal's balc, on the first call
-- and on every retry, whatever the account does later. NULL while the
-- settlement is not reversed, and for settlements reversed before this
-- version (the gateway then reads the balance now, as before). A nullable
-- column without a default rewrites nothing and reads no row.
ALTER TABLE settlements
    ADD COLUMN balance_after_reversal numeric(20, 2);
