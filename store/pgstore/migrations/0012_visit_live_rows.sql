-- medsettle schema, version 12: a visit counts its live fee details
-- (live_rows), so that an upload reads the count with the visit's row
-- lock instead of counting the lines (a statement per upload group).
--
-- live_rows is the number of the visit's fee_details rows whose
-- cancelled_at is NULL. Every statement that adds or cancels lines
-- changes it in the same transaction, under the visit's row lock (the
-- lock every check-then-write of a visit holds, 0010_visits.sql), so a
-- count read under that lock is the count of the lines.
--
-- visits keep free room in their pages (fillfactor 70): a visit is
-- updated twice after it is opened (its details counted, then settled),
-- and an update whose new version fits on its page is HOT (no new entry
-- in the visit's two indexes). Only pages written from now on keep it.
ALTER TABLE visits
    ADD COLUMN live_rows integer NOT NULL DEFAULT 0 CHECK (live_rows >= 0 AND live_rows <= detail_rows);

UPDATE visits v SET live_rows = c.n
    FROM (SELECT visit_id, count(*)::integer AS n FROM fee_details WHERE cancelled_at IS NULL GROUP BY visit_id) c
    WHERE v.visit_id = c.visit_id;

ALTER TABLE visits SET (fillfactor = 70);
