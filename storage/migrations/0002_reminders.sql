-- Persistent reminders. In-memory jobs are always derived from these rows.
-- Delivery rule: an occurrence is claimed (row inserted) before anything is sent, and each
-- chat's delivery is recorded as 'sending' before the send and 'sent' after it; on start-up a
-- 'sending' delivery is never repeated (it may have reached the chat), so nothing is sent twice.

CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY,
    subject_key   TEXT,
    target_kind   TEXT NOT NULL CHECK (target_kind IN ('chat', 'hub', 'all_groups', 'person')),
    target_id     INTEGER,
    text          TEXT NOT NULL,
    content_kind  TEXT NOT NULL DEFAULT 'text' CHECK (content_kind IN ('text', 'weekly_digest')),
    schedule      TEXT NOT NULL,
    urgent        INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('active', 'paused', 'finished', 'deleted')),
    next_due_at   TEXT,
    created_by    INTEGER,
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX reminders_subject ON reminders (subject_key) WHERE subject_key IS NOT NULL AND state <> 'deleted';
CREATE INDEX reminders_due ON reminders (state, next_due_at);

CREATE TABLE reminder_occurrences (
    id           INTEGER PRIMARY KEY,
    reminder_id  INTEGER NOT NULL REFERENCES reminders (id),
    due_at       TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('sending', 'sent', 'late', 'skipped')),
    claimed_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE UNIQUE INDEX reminder_occurrences_once ON reminder_occurrences (reminder_id, due_at);

CREATE TABLE reminder_deliveries (
    id             INTEGER PRIMARY KEY,
    occurrence_id  INTEGER NOT NULL REFERENCES reminder_occurrences (id),
    chat_id        INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'chat_gone', 'failed', 'nothing_to_say')),
    message_id     INTEGER,
    detail         TEXT,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX reminder_deliveries_once ON reminder_deliveries (occurrence_id, chat_id);
