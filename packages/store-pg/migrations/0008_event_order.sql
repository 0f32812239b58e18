-- Numbering within one move follows commit order wherever commit order can be seen (docs/events.md, "Ordering").
-- 0006 took a move's transactions in the order of their transaction ids; an id is given at a transaction's first
-- write, so a transaction that took its id early, then waited for another's commit (a lock) and appended after it,
-- was numbered before it. Each transaction is now placed by its last queued event: event_queue.id is drawn when the
-- event is inserted, so a transaction that appended after another committed has the larger last id. One
-- transaction's events stay consecutive and in the order it appended them.
CREATE OR REPLACE FUNCTION tessera_sequence_events() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE newest BIGINT; BEGIN
  IF EXISTS (SELECT 1 FROM event_queue) THEN
    PERFORM pg_advisory_xact_lock(7350002); WITH moved AS (
      DELETE FROM event_queue RETURNING id, xact, type, at, actor, workspace_id, resource_id, data
    ), placed AS (
      SELECT max(m.id) OVER (PARTITION BY m.xact) AS last_id, m.* FROM moved m
    ), numbered AS (
      SELECT c.last_seq + row_number() OVER (ORDER BY p.last_id, p.id) AS seq, p.*
      FROM placed p CROSS JOIN event_counter c WHERE c.id = 1
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
