-- A participant's last activity follows their response: every step stored updates
-- `responses.updated_at`, and so `participants.last_seen_at` (reminders wait for
-- quiet), and a person who answers can be reached again (`blocked_at` cleared).
CREATE TRIGGER responses_touch_participant AFTER UPDATE OF updated_at ON responses
BEGIN
    UPDATE participants SET last_seen_at = NEW.updated_at, blocked_at = NULL
    WHERE id = NEW.participant_id;
END;
