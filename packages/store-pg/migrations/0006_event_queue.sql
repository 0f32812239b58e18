-- Sequencing the event log without serialising writers (PostgreSQL; docs/events.md).
-- A writing transaction appends its events to event_queue, taking no shared lock.
-- tessera_sequence_events() moves the committed queued events into events, numbering
-- them after event_counter.last_seq, under one transaction-scoped advisory lock: moves
-- are serialised, each sees every move before it, and a move's events become visible
-- together, so seq order is the order events become visible in the log.
CREATE TABLE event_queue (
  id BIGSERIAL PRIMARY KEY,
  -- the appending transaction: one transaction's events stay consecutive in the log
  xact BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  workspace_id TEXT,
  resource_id TEXT,
  data TEXT NOT NULL
);

-- Returns the newest seq in the log after moving what was queued and committed
-- when it looked. Nothing queued: one index probe and one read, no lock, no write.
-- A move that numbered events notifies tessera_events (delivered at its commit):
-- writers do not notify, since PostgreSQL serialises the commits of notifying
-- transactions, and moves are serialised already.
-- Each statement of this (volatile) function reads a fresh snapshot, so the move
-- after the lock sees every event committed before it, including the moves of
-- whoever held the lock before.
-- (The migrator splits a file at each semicolon that ends a line, so inside the body
-- none does.)
CREATE FUNCTION tessera_sequence_events() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE newest BIGINT; BEGIN
  IF EXISTS (SELECT 1 FROM event_queue) THEN
    PERFORM pg_advisory_xact_lock(7350002); WITH moved AS (
      DELETE FROM event_queue RETURNING id, xact, type, at, actor, workspace_id, resource_id, data
    ), numbered AS (
      SELECT c.last_seq + row_number() OVER (ORDER BY m.xact, m.id) AS seq, m.*
      FROM moved m CROSS JOIN event_counter c WHERE c.id = 1
    ), inserted AS (
      INSERT INTO events (seq, type, at, actor, workspace_id, resource_id, data)
      SELECT seq, type, at, actor, workspace_id, resource_id, data FROM numbered
      RETURNING seq
    )
    UPDATE event_counter SET last_seq = last_seq + (SELECT count(*) FROM inserted)
    WHERE id = 1 AND EXISTS (SELECT 1 FROM inserted) RETURNING last_seq INTO newest
    ; IF newest IS NOT NULL THEN PERFORM pg_notify('tessera_events', newest::text)
    ; END IF; END IF
  ; SELECT last_seq INTO newest FROM event_counter WHERE id = 1; RETURN newest
; END
$$;
