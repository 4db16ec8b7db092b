-- Reminder rounds and summary broadcasts: subscribers, schedules, rounds and the outbox.

-- How often a participant was reminded (a round never reminds anyone more than
-- the configured number of times, nor sooner than the configured interval).
ALTER TABLE participants ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN last_reminded_at TEXT;

-- Who receives summaries: participants who opted in (erased with them) and the
-- groups and channels of diaspora organizations, each in its own language.
CREATE TABLE subscriptions (
    chat_id        INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('participant', 'group', 'channel')),
    participant_id INTEGER REFERENCES participants(id) ON DELETE CASCADE,
    language       TEXT NOT NULL,
    name           TEXT,
    created_at     TEXT NOT NULL,
    unreachable_at TEXT
);

-- Rounds run once (`run_at`) or repeatedly (`cron`, in the configured time zone).
CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'summary')),
    cron        TEXT,
    run_at      TEXT,
    paused      INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    created_at  TEXT NOT NULL,
    last_run_at TEXT,
    CHECK ((cron IS NULL) != (run_at IS NULL))
);

-- One reminder round or summary broadcast; its messages are the outbox rows.
CREATE TABLE rounds (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'summary')),
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    finished_at TEXT,
    reported_at TEXT
);

-- A summary is rendered once per language for its round (text and chart), so a
-- restart in the middle of a round sends the very same message. Once Telegram has
-- the chart, its file_id is reused instead of uploading it again.
CREATE TABLE round_contents (
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    text     TEXT NOT NULL,
    image    BLOB,
    file_id  TEXT,
    PRIMARY KEY (round_id, language)
);

-- One message to one chat, written for every recipient before anything is sent.
-- `sent` is recorded as soon as the Bot API confirms a message, which is then never
-- sent again; a message still `pending` after a crash is sent then.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY,
    round_id       INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    chat_id        INTEGER NOT NULL,
    participant_id INTEGER REFERENCES participants(id) ON DELETE CASCADE,
    language       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (
                       status IN ('pending', 'sent', 'unreachable', 'failed', 'skipped')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    not_before     TEXT,
    sent_at        TEXT,
    message_id     INTEGER,
    error          TEXT,
    UNIQUE (round_id, chat_id)
);
CREATE INDEX outbox_by_status ON outbox (status, id);
