-- Several instances on one PostgreSQL database (issue #20): which instance stored an update.
-- An update not done whose instance is gone (its session lock is free) is taken by another
-- (storage/inbox.py, `adopt`). Empty with SQLite's one process.
ALTER TABLE inbox ADD COLUMN taken_by TEXT;
