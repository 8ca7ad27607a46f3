-- Activities, their posts in groups, volunteer sign-ups and attendance (check-in / check-out).
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ'.

CREATE TABLE activities (
    id                INTEGER PRIMARY KEY,
    code              TEXT UNIQUE,
    org_id            INTEGER NOT NULL REFERENCES organisations (id),
    title             TEXT NOT NULL,
    category          TEXT NOT NULL CHECK (category IN
                        ('tutoring', 'counselling', 'interest', 'development', 'visit', 'clinic',
                         'elder_care', 'other')),
    starts_at         TEXT NOT NULL,
    ends_at           TEXT NOT NULL,
    place             TEXT NOT NULL,
    latitude          REAL,
    longitude         REAL,
    radius_m          INTEGER,
    slots             INTEGER NOT NULL CHECK (slots >= 1),
    expected_served   INTEGER NOT NULL DEFAULT 0 CHECK (expected_served >= 0),
    served_confirmed  INTEGER CHECK (served_confirmed >= 0),
    counts_as_deed    INTEGER NOT NULL DEFAULT 0,
    also_hub          INTEGER NOT NULL DEFAULT 0,
    state             TEXT NOT NULL CHECK (state IN ('published', 'cancelled')),
    created_by        INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    summary_sent_at   TEXT,
    CHECK (ends_at > starts_at),
    CHECK (radius_m IS NULL OR (latitude IS NOT NULL AND longitude IS NOT NULL AND radius_m > 0))
);
CREATE INDEX activities_org_start ON activities (org_id, starts_at);
CREATE INDEX activities_state_end ON activities (state, ends_at);

-- Where an activity was announced; the chat by its stable record id (survives supergroup upgrades).
CREATE TABLE activity_posts (
    id              INTEGER PRIMARY KEY,
    activity_id     INTEGER NOT NULL REFERENCES activities (id),
    chat_record_id  INTEGER NOT NULL REFERENCES chats (id),
    message_id      INTEGER NOT NULL,
    UNIQUE (activity_id, chat_record_id)
);

CREATE TABLE signups (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities (id),
    user_id      INTEGER NOT NULL REFERENCES people (user_id),
    status       TEXT NOT NULL CHECK (status IN ('signed', 'waitlisted', 'withdrawn')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (activity_id, user_id)
);
CREATE INDEX signups_user ON signups (user_id);

CREATE TABLE attendance (
    id              INTEGER PRIMARY KEY,
    activity_id     INTEGER NOT NULL REFERENCES activities (id),
    user_id         INTEGER NOT NULL REFERENCES people (user_id),
    checked_in_at   TEXT,
    checked_out_at  TEXT,
    walk_in         INTEGER NOT NULL DEFAULT 0,
    no_show         INTEGER NOT NULL DEFAULT 0,
    method          TEXT NOT NULL,
    removed_at      TEXT,
    UNIQUE (activity_id, user_id)
);
CREATE INDEX attendance_user ON attendance (user_id);
