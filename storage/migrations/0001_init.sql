-- consultbot schema, version 1.
-- Times are UTC, ISO 8601 text ('2026-11-28T10:17:13Z'): sortable, and julianday() reads them.

-- A person who opened the bot in a private chat. Keyed by Telegram user id, which
-- never leaves the database (exports and logs use a keyed hash). Before consent
-- only the language and the deep-link source are kept; declining deletes the row.
CREATE TABLE participants (
    id            INTEGER PRIMARY KEY,
    language      TEXT,
    status        TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'consented')),
    source        TEXT,
    created_at    TEXT NOT NULL,
    consented_at  TEXT,
    last_seen_at  TEXT NOT NULL,
    blocked_at    TEXT,
    reminders_off INTEGER NOT NULL DEFAULT 0 CHECK (reminders_off IN (0, 1))
);

-- One participant's pass through one survey. `current` is the question being
-- asked (NULL once completed); `draft` holds the choices ticked on a multi-select
-- question before "Done"; `question_message_id` is the chat message that shows it.
CREATE TABLE responses (
    id                  INTEGER PRIMARY KEY,
    participant_id      INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    survey_id           TEXT NOT NULL,
    survey_version      TEXT NOT NULL,
    language            TEXT NOT NULL,
    source              TEXT,
    started_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    completed_at        TEXT,
    current             TEXT,
    draft               TEXT,
    question_message_id INTEGER,
    UNIQUE (participant_id, survey_id)
);
CREATE INDEX responses_by_survey ON responses (survey_id, completed_at);

-- One row per question answered (value NULL: skipped). Each keeps the survey
-- version it was given under.
CREATE TABLE answers (
    response_id    INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    question_id    TEXT NOT NULL,
    value          TEXT,
    survey_version TEXT NOT NULL,
    answered_at    TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- Telegram update ids already applied: an update delivered twice changes nothing.
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL
);
CREATE INDEX processed_updates_by_time ON processed_updates (processed_at);

-- Anonymous counts of things that must leave no trace of the person
-- (a declined consent, a deletion): no participant id here.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL CHECK (kind IN ('declined', 'deleted')),
    language TEXT,
    at       TEXT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
