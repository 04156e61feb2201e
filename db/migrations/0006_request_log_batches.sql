CREATE TABLE "request_log_batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "request_log_batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" uuid NOT NULL,
	"entry_count" integer NOT NULL,
	"first_at" timestamp (3) with time zone NOT NULL,
	"last_at" timestamp (3) with time zone NOT NULL,
	"counts" jsonb NOT NULL,
	"entries" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "request_log_batches_user_id_idx" ON "request_log_batches" USING btree ("user_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "request_log_batches_last_at_idx" ON "request_log_batches" USING btree ("last_at");
