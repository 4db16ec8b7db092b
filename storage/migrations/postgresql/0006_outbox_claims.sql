-- See ../0006_outbox_claims.sql.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT COLLATE "C";
