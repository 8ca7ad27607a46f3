-- Foundation: organisations, people, memberships, join requests, handovers, chats,
-- conversation state and the audit log. Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ'.

CREATE TABLE organisations (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN
                   ('county_committee', 'county_level', 'township', 'village_branch', 'school', 'other')),
    parent_id    INTEGER REFERENCES organisations (id),
    deeds_quota  INTEGER NOT NULL CHECK (deeds_quota >= 0),
    archived_at  TEXT,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX organisations_name ON organisations (name);

CREATE TABLE people (
    user_id            INTEGER PRIMARY KEY,
    display_name       TEXT NOT NULL,
    username           TEXT,
    real_name          TEXT,
    phone              TEXT,
    language           TEXT,
    telegram_language  TEXT,
    promoted_admin     INTEGER NOT NULL DEFAULT 0,
    started_at         TEXT,
    created_at         TEXT NOT NULL
);

CREATE TABLE memberships (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations (id),
    user_id     INTEGER NOT NULL REFERENCES people (user_id),
    role        TEXT NOT NULL CHECK (role IN ('org_admin', 'cadre')),
    granted_by  INTEGER,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    end_reason  TEXT
);
CREATE UNIQUE INDEX memberships_current ON memberships (org_id, user_id) WHERE ended_at IS NULL;
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE join_requests (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations (id),
    user_id     INTEGER NOT NULL REFERENCES people (user_id),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    created_at  TEXT NOT NULL,
    decided_at  TEXT,
    decided_by  INTEGER
);
CREATE UNIQUE INDEX join_requests_pending ON join_requests (org_id, user_id) WHERE status = 'pending';

CREATE TABLE handovers (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organisations (id),
    from_user_id  INTEGER NOT NULL REFERENCES people (user_id),
    to_user_id    INTEGER NOT NULL REFERENCES people (user_id),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled')),
    created_at    TEXT NOT NULL,
    decided_at    TEXT
);
CREATE UNIQUE INDEX handovers_pending ON handovers (org_id, from_user_id) WHERE status = 'pending';

-- A surrogate id, so that a group upgraded to a supergroup changes one row, not every reference.
CREATE TABLE chats (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    type        TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    binding     TEXT CHECK (binding IN ('hub', 'org')),
    org_id      INTEGER REFERENCES organisations (id),
    bound_by    INTEGER,
    updated_at  TEXT NOT NULL,
    CHECK ((binding = 'org') = (org_id IS NOT NULL))
);
CREATE UNIQUE INDEX chats_chat_id ON chats (chat_id);
CREATE UNIQUE INDEX chats_one_hub ON chats (binding) WHERE binding = 'hub';
CREATE UNIQUE INDEX chats_one_per_org ON chats (org_id) WHERE binding = 'org';

-- A private-chat conversation in progress; kept in the database so a restart loses no step.
CREATE TABLE conversations (
    user_id     INTEGER PRIMARY KEY,
    flow        TEXT NOT NULL,
    step        TEXT NOT NULL,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject);
