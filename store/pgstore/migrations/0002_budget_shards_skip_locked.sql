-- medsettle schema, version 2: budget usage shards are taken, not
-- assigned. Version 1 put a person's settlements on one of 16 shards by a
-- hash of the person, so two persons on the same shard waited for each
-- other. A settlement now adds to any shard no other transaction holds
-- (FOR UPDATE SKIP LOCKED) and opens a new shard, numbered from this
-- sequence, when every shard is held: no settlement ever waits for another
-- person's, and an institution has as many shards as it ever had
-- settlements in flight at once. The usage is still the sum of the shards.

ALTER TABLE budget_usage ALTER COLUMN shard TYPE integer;

CREATE SEQUENCE budget_usage_shard AS integer START WITH 1000;
