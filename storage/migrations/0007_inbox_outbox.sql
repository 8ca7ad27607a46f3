-- The durable inbox: every update Telegram delivers is stored here before its offset is confirmed
-- (long polling) or its webhook call answered, and marked done once the bot has handled it; the
-- mark commits with the handler's first transaction. On start-up the rows not done are handled
-- first, in update_id order. The payload (which may hold what someone typed) is cleared when the
-- update is done; done rows are deleted after [storage] inbox_keep_days.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT,
    received_at  TEXT NOT NULL,
    done_at      TEXT
);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;

-- The durable outbox: every message the bot means to send because of a state change, written in
-- the same transaction as the change and sent by one sender, one at a time: 'pending' until
-- Telegram accepted it ('sent', with its message id), or it was found to have nothing to say
-- ('skipped'), or a permanent error ended it ('given_up', detail says why). A message is retried
-- with back-off (next_attempt_at) on network errors, 5xx and 429. idempotency_key names the one
-- intended message: the same message is never queued twice. params: JSON, ids mostly; the text is
-- rendered when sent, in the recipient's language. Finished rows are deleted after
-- [storage] outbox_keep_days.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    chat_id          INTEGER NOT NULL,
    params           TEXT NOT NULL DEFAULT '{}',
    priority         INTEGER NOT NULL DEFAULT 1 CHECK (priority IN (0, 1, 2)),
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'given_up')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    message_id       INTEGER,
    detail           TEXT
);
CREATE INDEX outbox_due ON outbox (priority, id) WHERE state = 'pending';
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';
