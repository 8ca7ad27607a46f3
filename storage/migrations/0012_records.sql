-- Service records (#19): certificates (frozen snapshots, signed serials), the signing secret when
-- neither the environment nor the config gives one, the QR check-in code of each activity, and
-- the identity fields a volunteer supplies (with consent) for the national platforms' export.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SSZ'; period dates are local 'YYYY-MM-DD', both ends included.

CREATE TABLE certificates (
    id             INTEGER PRIMARY KEY,
    serial         TEXT NOT NULL UNIQUE,
    user_id        INTEGER NOT NULL REFERENCES people (user_id),
    period_start   TEXT NOT NULL,
    period_end     TEXT NOT NULL,
    name_shown     TEXT NOT NULL,
    real_name      INTEGER NOT NULL CHECK (real_name IN (0, 1)),
    -- What the certificate says, as at issue (totals by kind and the lines): never recomputed.
    snapshot       TEXT NOT NULL,
    -- A digest of the lines at issue; a later correction changes the live digest: "superseded".
    fingerprint    TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    revoked_at     TEXT,
    revoked_by     INTEGER,
    revoke_reason  TEXT,
    CHECK (period_end >= period_start),
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX certificates_user ON certificates (user_id, period_start);

CREATE TABLE record_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- One row per activity that has a QR code; a new generation makes every older code stale.
CREATE TABLE activity_qr (
    activity_id  INTEGER PRIMARY KEY REFERENCES activities (id),
    generation   INTEGER NOT NULL CHECK (generation >= 1),
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);

-- Private (PIPL): read only for the county admins' export, each read audited; deleted for real
-- when the volunteer withdraws consent.
CREATE TABLE volunteer_identity (
    user_id       INTEGER PRIMARY KEY REFERENCES people (user_id),
    id_type       TEXT NOT NULL,
    id_number     TEXT NOT NULL,
    consented_at  TEXT NOT NULL
);
