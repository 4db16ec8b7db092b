-- The web console: one-time sign-in links, sessions, and surveys published from it.
-- Only hashes (SHA-256) of the link and session tokens are stored: a copy of the
-- database opens no console. `user_id` is the organizer's Telegram user id.
CREATE TABLE console_links (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    language     TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);

-- A survey file published from the console: the newest is the one the bot runs.
CREATE TABLE published_surveys (
    id           INTEGER PRIMARY KEY,
    survey_id    TEXT NOT NULL,
    version      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content      BLOB NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL
);
