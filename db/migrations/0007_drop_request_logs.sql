-- Keeps the entries of the old one-row-per-request table: each becomes a batch of one, in id
-- order (so entry ids still follow request order); they age out with the retention.
INSERT INTO "request_log_batches" ("user_id", "entry_count", "first_at", "last_at", "counts", "entries")
SELECT "user_id", 1, "created_at", "created_at", jsonb_build_object("method" || ' ' || "status_code", 1),
  json_build_array(json_build_array("method", "path", "status_code", round("duration_ms"::numeric, 2), "request_size_bytes",
    "response_size_bytes", "ip", "api_key_prefix", (extract(epoch from "created_at") * 1000)::bigint))::text
FROM "request_logs" ORDER BY "id";
--> statement-breakpoint
DROP TABLE "request_logs" CASCADE;
