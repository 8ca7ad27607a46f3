-- Donations and funds (捐赠与基金): an append-only ledger. Times are UTC text, dates local
-- 'YYYY-MM-DD', money integer fen (分).
--
-- The journal (fund_entries) records what happened; the postings (fund_postings) are each
-- entry's signed effect on a fund's balance, so a balance is the sum of its postings and a
-- transfer is one entry with two postings. A mistake is corrected by a reversing entry that
-- names the original (reverses_id) and the reason; nothing is ever updated or deleted, and
-- the triggers below refuse it whatever the code does. A grant above the approval threshold
-- is recorded with needs_approval = 1 and gets its postings only when a second county admin
-- approves it (fund_decisions, also insert-only).
--
-- Privacy (PIPL): a donor's contact details live in fund_donor_private, read only by county
-- admins (every view audited); entries name students by their public alias only.

CREATE TABLE fund_donors (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('organisation', 'company', 'individual')),
    name         TEXT NOT NULL,
    public_name  TEXT,
    anonymous    INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX fund_donors_name ON fund_donors (name);

CREATE TABLE fund_donor_private (
    donor_id        INTEGER PRIMARY KEY REFERENCES fund_donors (id),
    contact_person  TEXT,
    phone           TEXT,
    address         TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      INTEGER NOT NULL
);

CREATE TABLE funds (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    owner_org_id  INTEGER NOT NULL REFERENCES organisations (id),
    -- Restrictions, as JSON arrays; [] means unrestricted.
    allowed_orgs  TEXT NOT NULL DEFAULT '[]',
    allowed_kinds TEXT NOT NULL DEFAULT '[]',
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX funds_name ON funds (name);

CREATE TABLE fund_entries (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN
                       ('pledge', 'receipt', 'grant', 'expense', 'transfer', 'correction')),
    fund_id          INTEGER NOT NULL REFERENCES funds (id),
    amount_fen       INTEGER NOT NULL CHECK (amount_fen > 0),
    occurred_on      TEXT NOT NULL,
    donor_id         INTEGER REFERENCES fund_donors (id),
    pledge_id        INTEGER REFERENCES fund_entries (id),
    instalment_no    INTEGER,
    method           TEXT,
    reference        TEXT,
    voucher_file_id  TEXT,
    recipient_kind   TEXT CHECK (recipient_kind IN ('student', 'village', 'activity', 'wish')),
    recipient_id     INTEGER,
    recipient_org_id INTEGER REFERENCES organisations (id),
    recipient_label  TEXT,
    to_fund_id       INTEGER REFERENCES funds (id),
    reverses_id      INTEGER REFERENCES fund_entries (id),
    reason           TEXT,
    override_reason  TEXT,
    responsible_id   INTEGER,
    needs_approval   INTEGER NOT NULL DEFAULT 0 CHECK (needs_approval IN (0, 1)),
    request_key      TEXT NOT NULL,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    CHECK (kind <> 'transfer' OR (to_fund_id IS NOT NULL AND to_fund_id <> fund_id)),
    CHECK (kind <> 'correction' OR (reverses_id IS NOT NULL AND reason IS NOT NULL)),
    CHECK (kind NOT IN ('grant', 'expense') OR recipient_kind IS NOT NULL),
    CHECK (kind NOT IN ('pledge', 'receipt') OR donor_id IS NOT NULL)
);
CREATE UNIQUE INDEX fund_entries_request ON fund_entries (request_key);
CREATE INDEX fund_entries_fund ON fund_entries (fund_id, occurred_on);
CREATE INDEX fund_entries_donor ON fund_entries (donor_id, kind);
CREATE INDEX fund_entries_pledge ON fund_entries (pledge_id, instalment_no);
-- One correction per entry: a second is refused by the database too.
CREATE UNIQUE INDEX fund_entries_reverses ON fund_entries (reverses_id) WHERE reverses_id IS NOT NULL;

CREATE TABLE fund_instalments (
    pledge_id     INTEGER NOT NULL REFERENCES fund_entries (id),
    instalment_no INTEGER NOT NULL CHECK (instalment_no > 0),
    due_on        TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (pledge_id, instalment_no)
);
CREATE INDEX fund_instalments_due ON fund_instalments (due_on);

CREATE TABLE fund_postings (
    id          INTEGER PRIMARY KEY,
    entry_id    INTEGER NOT NULL REFERENCES fund_entries (id),
    fund_id     INTEGER NOT NULL REFERENCES funds (id),
    delta_fen   INTEGER NOT NULL CHECK (delta_fen <> 0),
    occurred_on TEXT NOT NULL
);
CREATE INDEX fund_postings_fund ON fund_postings (fund_id, occurred_on);
CREATE INDEX fund_postings_entry ON fund_postings (entry_id);

CREATE TABLE fund_decisions (
    entry_id    INTEGER PRIMARY KEY REFERENCES fund_entries (id),
    approved    INTEGER NOT NULL CHECK (approved IN (0, 1)),
    decided_by  INTEGER NOT NULL,
    decided_at  TEXT NOT NULL,
    note        TEXT
);

-- Append-only, whatever the code above does.
-- engine: sqlite
CREATE TRIGGER fund_entries_no_update BEFORE UPDATE ON fund_entries
BEGIN
    SELECT RAISE(ABORT, 'fund_entries is append-only: record a correction instead');
END;

CREATE TRIGGER fund_entries_no_delete BEFORE DELETE ON fund_entries
BEGIN
    SELECT RAISE(ABORT, 'fund_entries is append-only: record a correction instead');
END;

CREATE TRIGGER fund_postings_no_update BEFORE UPDATE ON fund_postings
BEGIN
    SELECT RAISE(ABORT, 'fund_postings is append-only');
END;

CREATE TRIGGER fund_postings_no_delete BEFORE DELETE ON fund_postings
BEGIN
    SELECT RAISE(ABORT, 'fund_postings is append-only');
END;

CREATE TRIGGER fund_instalments_no_update BEFORE UPDATE ON fund_instalments
BEGIN
    SELECT RAISE(ABORT, 'fund_instalments is append-only');
END;

CREATE TRIGGER fund_instalments_no_delete BEFORE DELETE ON fund_instalments
BEGIN
    SELECT RAISE(ABORT, 'fund_instalments is append-only');
END;

CREATE TRIGGER fund_decisions_no_update BEFORE UPDATE ON fund_decisions
BEGIN
    SELECT RAISE(ABORT, 'fund_decisions is append-only');
END;

CREATE TRIGGER fund_decisions_no_delete BEFORE DELETE ON fund_decisions
BEGIN
    SELECT RAISE(ABORT, 'fund_decisions is append-only');
END;

-- engine: postgresql
CREATE TRIGGER fund_entries_append_only BEFORE UPDATE OR DELETE ON fund_entries
FOR EACH ROW EXECUTE FUNCTION league_refuse('fund_entries is append-only: record a correction instead');

CREATE TRIGGER fund_postings_append_only BEFORE UPDATE OR DELETE ON fund_postings
FOR EACH ROW EXECUTE FUNCTION league_refuse('fund_postings is append-only');

CREATE TRIGGER fund_instalments_append_only BEFORE UPDATE OR DELETE ON fund_instalments
FOR EACH ROW EXECUTE FUNCTION league_refuse('fund_instalments is append-only');

CREATE TRIGGER fund_decisions_append_only BEFORE UPDATE OR DELETE ON fund_decisions
FOR EACH ROW EXECUTE FUNCTION league_refuse('fund_decisions is append-only');
-- engine: both

