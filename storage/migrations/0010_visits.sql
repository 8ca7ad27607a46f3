-- Verification-visit campaigns (走访核实): a county admin's campaign, its teams of visitors,
-- the households to visit (imported from a spreadsheet), and one visit per household and round
-- (a household not reached is visited again in a new round). Times are UTC text.
--
-- Privacy (PIPL): the public rows hold only the student's alias and the township. Everything
-- else about a household (school, admission, village, address, guardian, phone, the claimed
-- circumstances, its approximate location) lives in visit_household_private; a visit's free
-- text (notes, reasons), its location and its photos live in visit_private and visit_photos.
-- No public query reads those three tables; they are emptied a configured time after the
-- campaign closes (purged_at records it).

CREATE TABLE visit_campaigns (
    id             INTEGER PRIMARY KEY,
    title          TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    deadline       TEXT NOT NULL,
    checklist      TEXT NOT NULL DEFAULT '[]',  -- JSON list of the configured item names
    status         TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    hub_chat_id    INTEGER,
    hub_message_id INTEGER,
    created_by     INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    closed_at      TEXT,
    closed_by      INTEGER,
    purged_at      TEXT,
    CHECK (status <> 'closed' OR closed_at IS NOT NULL)
);

CREATE TABLE visit_teams (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES visit_campaigns (id),
    number       INTEGER NOT NULL CHECK (number >= 1),
    leader_id    INTEGER REFERENCES people (user_id),
    UNIQUE (campaign_id, number)
);

-- The organisations of a team, and the townships it was given (whole townships only).
CREATE TABLE visit_team_orgs (
    team_id  INTEGER NOT NULL REFERENCES visit_teams (id),
    org_id   INTEGER NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (team_id, org_id)
);

CREATE TABLE visit_team_townships (
    campaign_id  INTEGER NOT NULL REFERENCES visit_campaigns (id),
    township_id  INTEGER NOT NULL REFERENCES organisations (id),
    team_id      INTEGER NOT NULL REFERENCES visit_teams (id),
    PRIMARY KEY (campaign_id, township_id)
);

CREATE TABLE visit_team_members (
    team_id  INTEGER NOT NULL REFERENCES visit_teams (id),
    user_id  INTEGER NOT NULL REFERENCES people (user_id),
    org_id   INTEGER REFERENCES organisations (id),
    pair     INTEGER NOT NULL DEFAULT 0,  -- members with the same pair number visit together
    left_at  TEXT,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX visit_team_members_user ON visit_team_members (user_id);

CREATE TABLE visit_households (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES visit_campaigns (id),
    alias        TEXT NOT NULL,
    township_id  INTEGER NOT NULL REFERENCES organisations (id),
    team_id      INTEGER REFERENCES visit_teams (id),
    -- Assigned to the team's members of one pair, or (holder set) to one person: the team
    -- leader after a member left, or whoever the leader reassigned it to.
    pair         INTEGER,
    holder       INTEGER REFERENCES people (user_id),
    revisit_at   TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX visit_households_team ON visit_households (team_id);
CREATE INDEX visit_households_holder ON visit_households (holder);

CREATE TABLE visit_household_private (
    household_id   INTEGER PRIMARY KEY REFERENCES visit_households (id),
    student_key    TEXT NOT NULL,  -- township + alias + school, normalised: a student imported twice is refused
    school         TEXT NOT NULL,
    admission      TEXT,
    village        TEXT,
    address        TEXT,
    guardian       TEXT,
    phone          TEXT,
    circumstances  TEXT,
    latitude       REAL,
    longitude      REAL
);

-- One visit per household and round; the unique key is what lets only one of two visitors who
-- start the same household at once have the visit.
CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    household_id  INTEGER NOT NULL REFERENCES visit_households (id),
    round         INTEGER NOT NULL DEFAULT 1,
    visitor_id    INTEGER NOT NULL REFERENCES people (user_id),
    status        TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'has_issues', 'approved', 'rejected')),
    step          TEXT NOT NULL,
    met           INTEGER,
    matches       TEXT CHECK (matches IN ('yes', 'partly', 'no')),
    items         TEXT NOT NULL DEFAULT '{}',  -- JSON: checklist item -> answered (true)
    located       INTEGER NOT NULL DEFAULT 0,
    far           INTEGER NOT NULL DEFAULT 0,
    distance_km   REAL,
    photos        INTEGER NOT NULL DEFAULT 0,
    outcome       TEXT CHECK (outcome IN ('verified', 'not_eligible', 'unreachable')),
    started_at    TEXT NOT NULL,
    submitted_at  TEXT,
    reviewed_by   INTEGER,
    reviewed_at   TEXT,
    UNIQUE (household_id, round)
);
CREATE INDEX visits_visitor ON visits (visitor_id, status);
CREATE INDEX visits_status ON visits (status);

CREATE TABLE visit_private (
    visit_id      INTEGER PRIMARY KEY REFERENCES visits (id),
    match_note    TEXT,
    item_answers  TEXT NOT NULL DEFAULT '{}',  -- JSON: checklist item -> what the visitor wrote
    reason        TEXT,
    review_note   TEXT,
    latitude      REAL,
    longitude     REAL
);

CREATE TABLE visit_photos (
    id        INTEGER PRIMARY KEY,
    visit_id  INTEGER NOT NULL REFERENCES visits (id),
    file_id   TEXT NOT NULL,
    added_at  TEXT NOT NULL
);
CREATE INDEX visit_photos_visit ON visit_photos (visit_id);
