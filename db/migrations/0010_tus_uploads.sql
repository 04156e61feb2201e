CREATE TABLE "tus_uploads" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"file_id" text NOT NULL,
	"storage_key" text NOT NULL,
	"length" bigint,
	"offset" bigint DEFAULT 0 NOT NULL,
	"max_bytes" bigint NOT NULL,
	"metadata" text,
	"attrs" jsonb NOT NULL,
	"hash_state" text,
	"head" text DEFAULT '' NOT NULL,
	"content_type" text,
	"s3_upload_id" text,
	"parts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tail_size" integer DEFAULT 0 NOT NULL,
	"via_token" boolean DEFAULT false NOT NULL,
	"lock_id" text,
	"locked_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tus_uploads" ADD CONSTRAINT "tus_uploads_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tus_uploads_expires_at_idx" ON "tus_uploads" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "tus_uploads_user_idx" ON "tus_uploads" USING btree ("user_id");