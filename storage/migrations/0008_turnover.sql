-- Cadre turnover: when a person stops acting for an organisation (a handover, a removal, leaving)
-- their duties move to a receiver and their access ends; a notice period may keep read access.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ'.

-- A notice period: after ended_at the person may still read the organisation's records (never
-- children's private details) until read_until. NULL: no notice period.
ALTER TABLE memberships ADD COLUMN read_until TEXT;

-- The notice period the predecessor asked for, applied when the successor accepts.
ALTER TABLE handovers ADD COLUMN notice_days INTEGER NOT NULL DEFAULT 0;

-- One departure: who stopped acting for which organisation, why, and who received the duties.
CREATE TABLE departures (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations (id),
    user_id      INTEGER NOT NULL REFERENCES people (user_id),
    receiver_id  INTEGER REFERENCES people (user_id),
    reason       TEXT NOT NULL CHECK (reason IN ('handover', 'removed', 'left')),
    actor_id     INTEGER NOT NULL,
    notice_days  INTEGER NOT NULL DEFAULT 0 CHECK (notice_days >= 0),
    at           TEXT NOT NULL
);
CREATE INDEX departures_org ON departures (org_id, at);

-- What moved in a departure, one row per duty (the successor's message lists them).
CREATE TABLE duty_transfers (
    id            INTEGER PRIMARY KEY,
    departure_id  INTEGER NOT NULL REFERENCES departures (id),
    kind          TEXT NOT NULL,
    subject_id    INTEGER NOT NULL,
    label         TEXT NOT NULL,
    due_at        TEXT,
    UNIQUE (departure_id, kind, subject_id)
);
