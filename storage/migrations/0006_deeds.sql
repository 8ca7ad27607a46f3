-- Practical deeds (实事): each organisation owes a yearly number of them (organisations.deeds_quota).
-- A deed is recorded from a finished activity marked as a deed (activity_id, at most one deed per
-- activity) or entered directly. done_on is the local calendar date 'YYYY-MM-DD'; created_at is UTC text.

CREATE TABLE deeds (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES organisations (id),
    title             TEXT NOT NULL,
    done_on           TEXT NOT NULL CHECK (done_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    activity_id       INTEGER UNIQUE REFERENCES activities (id),
    evidence_file_id  TEXT,
    note              TEXT,
    created_by        INTEGER NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX deeds_org_done ON deeds (org_id, done_on);
CREATE INDEX deeds_done ON deeds (done_on);
-- The period queries of the statistics (wishes by creation / claim / confirmation time).
CREATE INDEX wishes_created ON wishes (created_at);
CREATE INDEX wishes_claimed_at ON wishes (claimed_at);
CREATE INDEX wishes_confirmed_at ON wishes (confirmed_at);
CREATE INDEX activities_start ON activities (starts_at);
