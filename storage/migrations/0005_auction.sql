-- The live wish auction (认领会): a session with a fixed set of lots (open wishes, snapshotted
-- when the session is created), released in order (`position`), claimed through the wishes
-- table (wishes.session_id names the session a claim was made in). Times are UTC text.
--
-- A wish is a lot of at most one session that is not over (scheduled or live): bot/auction.py
-- enforces it when it snapshots the lots. Unclaimed lots of a closed session simply stay open
-- wishes ("back in the pool").

CREATE TABLE auction_sessions (
    id                    INTEGER PRIMARY KEY,
    title                 TEXT NOT NULL,
    starts_at             TEXT NOT NULL,
    ends_at               TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'closed', 'cancelled')),
    cap_per_org           INTEGER CHECK (cap_per_org IS NULL OR cap_per_org >= 1),
    cap_per_person        INTEGER CHECK (cap_per_person IS NULL OR cap_per_person >= 1),
    fulfilment_deadline   TEXT NOT NULL,
    wave_size             INTEGER CHECK (wave_size IS NULL OR wave_size >= 1),
    wave_every_minutes    INTEGER CHECK (wave_every_minutes IS NULL OR wave_every_minutes >= 1),
    created_by            INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    opened_at             TEXT,
    closed_at             TEXT,
    -- The live board in the hub: the chat by its stable record id (survives supergroup upgrades).
    board_chat_record_id  INTEGER REFERENCES chats (id),
    board_message_id      INTEGER,
    CHECK (ends_at > starts_at),
    CHECK (fulfilment_deadline >= ends_at),
    CHECK ((wave_size IS NULL) = (wave_every_minutes IS NULL))
);
CREATE INDEX auction_sessions_state ON auction_sessions (state, starts_at);

CREATE TABLE auction_lots (
    session_id  INTEGER NOT NULL REFERENCES auction_sessions (id),
    wish_id     INTEGER NOT NULL REFERENCES wishes (id),
    position    INTEGER NOT NULL CHECK (position >= 0),  -- 0-based order of release
    PRIMARY KEY (session_id, wish_id),
    UNIQUE (session_id, position)
);
CREATE INDEX auction_lots_wish ON auction_lots (wish_id);
