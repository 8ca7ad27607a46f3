-- Micro-wishes (微心愿): children's wishes collected by an organisation (usually a school),
-- claimed by a cadre for their organisation (directly or in an auction session), bought,
-- delivered with a photo as proof, and confirmed by the collector. Times are UTC text.
--
-- Privacy (PIPL, children under 14): the public row holds only an alias and a grade. The
-- child's real name, the guardian's phone, the address and notes live in wish_private, which
-- no public query reads, which only accepts rows for a wish whose guardian consented, and
-- whose rows are deleted a while after the wish is confirmed (private_purged_at records it).

CREATE TABLE wishes (
    id                      INTEGER PRIMARY KEY,
    collector_org_id        INTEGER NOT NULL REFERENCES organisations (id),
    alias                   TEXT NOT NULL,
    grade                   TEXT NOT NULL,
    text                    TEXT NOT NULL,
    category                TEXT NOT NULL CHECK (category IN
                              ('stationery', 'books', 'sports', 'toys', 'clothing', 'experience', 'other')),
    value_yuan              INTEGER NOT NULL CHECK (value_yuan BETWEEN 1 AND 2000),
    photo_file_id           TEXT,
    status                  TEXT NOT NULL CHECK (status IN
                              ('open', 'claimed', 'purchased', 'delivered', 'confirmed', 'cancelled')),
    consent                 INTEGER NOT NULL CHECK (consent IN (0, 1)),
    consent_recorded_at     TEXT NOT NULL,
    consent_recorded_by     INTEGER NOT NULL,
    private_purged_at       TEXT,
    -- The claim. session_id names an auction session (its table comes with the auction; no
    -- foreign key, so this migration stands alone). A release clears all five.
    claimed_by_user         INTEGER REFERENCES people (user_id),
    claimed_by_org          INTEGER REFERENCES organisations (id),
    claimed_at              TEXT,
    session_id              INTEGER,
    deadline                TEXT,
    purchased_at            TEXT,
    purchased_by            INTEGER,
    delivered_at            TEXT,
    delivered_by            INTEGER,
    delivery_proof_file_id  TEXT,
    confirmed_at            TEXT,
    confirmed_by            INTEGER,
    cancelled_at            TEXT,
    cancelled_by            INTEGER,
    cancel_reason           TEXT,
    created_by              INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    CHECK (status <> 'open' OR (claimed_by_user IS NULL AND claimed_by_org IS NULL AND claimed_at IS NULL)),
    CHECK (status NOT IN ('claimed', 'purchased', 'delivered', 'confirmed')
           OR (claimed_by_user IS NOT NULL AND claimed_by_org IS NOT NULL AND claimed_at IS NOT NULL)),
    CHECK (status NOT IN ('delivered', 'confirmed') OR delivery_proof_file_id IS NOT NULL),
    CHECK (status <> 'confirmed' OR confirmed_at IS NOT NULL)
);
CREATE INDEX wishes_status ON wishes (status, id);
CREATE INDEX wishes_collector ON wishes (collector_org_id, status);
CREATE INDEX wishes_claimer_org ON wishes (claimed_by_org, status);
CREATE INDEX wishes_claimer_user ON wishes (claimed_by_user, status);
CREATE INDEX wishes_session ON wishes (session_id, claimed_by_org);
CREATE INDEX wishes_deadline ON wishes (status, deadline);
CREATE INDEX wishes_confirmed ON wishes (confirmed_at) WHERE private_purged_at IS NULL;

CREATE TABLE wish_private (
    wish_id         INTEGER PRIMARY KEY REFERENCES wishes (id),
    real_name       TEXT,
    guardian_phone  TEXT,
    address         TEXT,
    notes           TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      INTEGER NOT NULL
);

-- Without a guardian's consent a wish keeps no private details, whatever the code above does.
-- engine: sqlite
CREATE TRIGGER wish_private_insert_needs_consent BEFORE INSERT ON wish_private
WHEN (SELECT consent FROM wishes WHERE id = NEW.wish_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'wish_private: the wish has no guardian consent');
END;

CREATE TRIGGER wish_private_update_needs_consent BEFORE UPDATE ON wish_private
WHEN (SELECT consent FROM wishes WHERE id = NEW.wish_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'wish_private: the wish has no guardian consent');
END;

-- Withdrawing consent deletes the details first (bot/wishes.py does); never leave them behind.
CREATE TRIGGER wishes_consent_withdrawn_keeps_nothing BEFORE UPDATE OF consent ON wishes
WHEN NEW.consent = 0 AND EXISTS (SELECT 1 FROM wish_private WHERE wish_id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'wishes: delete wish_private before withdrawing consent');
END;
-- engine: postgresql
CREATE FUNCTION league_refuse() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
    RAISE EXCEPTION ''%'', TG_ARGV[0] USING ERRCODE = ''23000'';
END';

CREATE FUNCTION wish_private_needs_consent() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
    IF (SELECT consent FROM wishes WHERE id = NEW.wish_id) IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION ''wish_private: the wish has no guardian consent'' USING ERRCODE = ''23000'';
    END IF;
    RETURN NEW;
END';

CREATE TRIGGER wish_private_needs_consent BEFORE INSERT OR UPDATE ON wish_private
FOR EACH ROW EXECUTE FUNCTION wish_private_needs_consent();

CREATE FUNCTION wishes_consent_withdrawn_keeps_nothing() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
    IF NEW.consent = 0 AND EXISTS (SELECT 1 FROM wish_private WHERE wish_id = NEW.id) THEN
        RAISE EXCEPTION ''wishes: delete wish_private before withdrawing consent'' USING ERRCODE = ''23000'';
    END IF;
    RETURN NEW;
END';

CREATE TRIGGER wishes_consent_withdrawn_keeps_nothing BEFORE UPDATE OF consent ON wishes
FOR EACH ROW EXECUTE FUNCTION wishes_consent_withdrawn_keeps_nothing();
-- engine: both

