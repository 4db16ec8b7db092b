-- A message is claimed by the sender that takes it (a worker's id) before it is
-- sent, in the same statement that finds it due: two senders never take the same
-- one. A claim is released when the message must wait (429, back-off) and, at
-- start-up, when the process that held it is gone.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
