-- Sunshine Home (阳光家园): the children's register, volunteers' profiles, pairs (结对子), every
-- contact of a pair, and the children who attended a Sunshine Home group session.
-- Times are UTC text; contact_on is the local calendar date 'YYYY-MM-DD'.
--
-- Privacy (PIPL, children under 14): `children` holds only a public alias, a grade and needs.
-- Real name, birth date, guardian, phone, address and situation notes live in child_private,
-- which only accepts rows for a child whose guardian consented, and whose rows are deleted a
-- while after the child leaves the programme (private_purged_at records it).

CREATE TABLE children (
    id                   INTEGER PRIMARY KEY,
    org_id               INTEGER NOT NULL REFERENCES organisations (id),
    alias                TEXT NOT NULL,
    grade                TEXT NOT NULL,
    needs                TEXT NOT NULL DEFAULT '[]',  -- JSON list of tags
    consent              INTEGER NOT NULL CHECK (consent IN (0, 1)),
    consent_recorded_at  TEXT NOT NULL,
    consent_recorded_by  INTEGER NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'left')),
    left_at              TEXT,
    left_reason          TEXT CHECK (left_reason IN ('moved', 'aged_out', 'high_school', 'other')),
    private_purged_at    TEXT,
    created_by           INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    CHECK (status <> 'left' OR (left_at IS NOT NULL AND left_reason IS NOT NULL))
);
-- The same alias and grade twice in one organisation is a duplicate while both are active.
CREATE UNIQUE INDEX children_active_key ON children (org_id, alias, grade) WHERE status = 'active';
CREATE INDEX children_org ON children (org_id, status);
CREATE INDEX children_left ON children (left_at) WHERE private_purged_at IS NULL;

CREATE TABLE child_private (
    child_id        INTEGER PRIMARY KEY REFERENCES children (id),
    real_name       TEXT,
    birth_date      TEXT,
    guardian        TEXT,
    guardian_phone  TEXT,
    address         TEXT,
    notes           TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      INTEGER NOT NULL
);

-- Without a guardian's consent a child keeps no private details, whatever the code above does.
-- engine: sqlite
CREATE TRIGGER child_private_insert_needs_consent BEFORE INSERT ON child_private
WHEN (SELECT consent FROM children WHERE id = NEW.child_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'child_private: the child has no guardian consent');
END;

CREATE TRIGGER child_private_update_needs_consent BEFORE UPDATE ON child_private
WHEN (SELECT consent FROM children WHERE id = NEW.child_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'child_private: the child has no guardian consent');
END;
-- engine: postgresql
CREATE FUNCTION child_private_needs_consent() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
    IF (SELECT consent FROM children WHERE id = NEW.child_id) IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION ''child_private: the child has no guardian consent'' USING ERRCODE = ''23000'';
    END IF;
    RETURN NEW;
END';

CREATE TRIGGER child_private_needs_consent BEFORE INSERT OR UPDATE ON child_private
FOR EACH ROW EXECUTE FUNCTION child_private_needs_consent();
-- engine: both


-- A volunteer's own profile; every field optional. counsellor_confirmed_by is the cadre who
-- confirmed the counsellor training (the seed's 52 trained local counsellors).
CREATE TABLE volunteer_profiles (
    user_id                 INTEGER PRIMARY KEY REFERENCES people (user_id),
    kind                    TEXT CHECK (kind IN
                              ('teacher', 'doctor', 'legal', 'student', 'returning', 'counsellor', 'other')),
    employer                TEXT,
    skills                  TEXT NOT NULL DEFAULT '[]',  -- JSON list of tags
    availability            TEXT NOT NULL DEFAULT '[]',  -- JSON list: weekdays, weekends, holidays
    home_area               TEXT,
    origin                  TEXT CHECK (origin IN ('hk', 'mo', 'tw')),
    counsellor_confirmed_by INTEGER,
    counsellor_confirmed_at TEXT,
    updated_at              TEXT NOT NULL
);

-- A pair: proposed by a cadre of the child's organisation, accepted (active) or declined by the
-- volunteer, ended with a reason. reminded_for / escalated_for name the quiet spell (the day of
-- the last contact, or the start) for which the volunteer was reminded / the cadres were told:
-- each is done once per quiet spell, and a new contact starts a new one.
CREATE TABLE pairs (
    id             INTEGER PRIMARY KEY,
    child_id       INTEGER NOT NULL REFERENCES children (id),
    volunteer_id   INTEGER NOT NULL REFERENCES people (user_id),
    org_id         INTEGER NOT NULL REFERENCES organisations (id),
    support        TEXT NOT NULL CHECK (support IN ('tutoring', 'counselling', 'interest', 'development')),
    rhythm_days    INTEGER NOT NULL CHECK (rhythm_days BETWEEN 1 AND 92),
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'declined', 'ended')),
    proposed_by    INTEGER NOT NULL,
    proposed_at    TEXT NOT NULL,
    started_at     TEXT,
    started_on     TEXT,
    ended_at       TEXT,
    end_reason     TEXT CHECK (end_reason IN ('finished', 'volunteer_left', 'child_left')),
    reminded_for   TEXT,
    escalated_for  TEXT,
    CHECK (status <> 'active' OR started_on IS NOT NULL),
    CHECK (status <> 'ended' OR (ended_at IS NOT NULL AND end_reason IS NOT NULL))
);
-- One live pair (proposed or active) per child and kind of support.
CREATE UNIQUE INDEX pairs_child_support ON pairs (child_id, support) WHERE status IN ('proposed', 'active');
CREATE INDEX pairs_volunteer ON pairs (volunteer_id, status);
CREATE INDEX pairs_org ON pairs (org_id, status);
CREATE INDEX pairs_status ON pairs (status);

CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    pair_id          INTEGER NOT NULL REFERENCES pairs (id),
    contact_on       TEXT NOT NULL CHECK (contact_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    kind             TEXT NOT NULL CHECK (kind IN ('visit', 'call', 'online', 'group')),
    minutes          INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 720),
    note             TEXT,
    photo_file_id    TEXT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL
);
-- Covering the figures' one grouped pass (pair, month: contacts, minutes) and a pair's last contact.
-- No index on contact_on alone: the planner would pick it and visit every row for its pair.
CREATE INDEX contacts_pair_on ON contacts (pair_id, contact_on, minutes);

-- Children who attended a Sunshine Home group session (an activity), recorded by code.
CREATE TABLE session_children (
    activity_id  INTEGER NOT NULL REFERENCES activities (id),
    child_id     INTEGER NOT NULL REFERENCES children (id),
    recorded_by  INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (activity_id, child_id)
);
CREATE INDEX session_children_child ON session_children (child_id);

-- A wish can name its child: the child's wishes and services show together.
ALTER TABLE wishes ADD COLUMN child_id INTEGER REFERENCES children (id);
CREATE INDEX wishes_child ON wishes (child_id) WHERE child_id IS NOT NULL;
