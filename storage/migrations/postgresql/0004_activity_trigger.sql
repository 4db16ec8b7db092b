-- See ../0004_activity_trigger.sql: a participant's last activity follows their response.
CREATE FUNCTION responses_touch_participant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE participants SET last_seen_at = NEW.updated_at, blocked_at = NULL
    WHERE id = NEW.participant_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER responses_touch_participant AFTER UPDATE OF updated_at ON responses
FOR EACH ROW EXECUTE FUNCTION responses_touch_participant();
