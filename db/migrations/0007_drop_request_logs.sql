-- Keeps the entries of the old one-row-per-request table: each becomes a batch of one (the
-- `StoredBatch` JSON of logs/table.ts), in id order, so entry ids still follow request order;
-- they age out with the retention.
INSERT INTO "request_log_batches" ("user_id", "entry_count", "first_at", "last_at", "counts", "entries")
SELECT "user_id", 1, "created_at", "created_at", jsonb_build_object("method" || ' ' || "status_code", 1),
  json_build_object(
    'c', json_build_array(json_build_array("method", "path", "ip", "api_key_prefix")),
    'e', json_build_array(json_build_array(0, "status_code", round("duration_ms"::numeric, 2), "request_size_bytes", "response_size_bytes", 0))
  )::text
FROM "request_logs" ORDER BY "id";
--> statement-breakpoint
DROP TABLE "request_logs" CASCADE;
