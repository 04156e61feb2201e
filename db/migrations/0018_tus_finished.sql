CREATE TABLE "tus_finished" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"file_id" text NOT NULL,
	"length" bigint NOT NULL,
	"via_token" boolean DEFAULT false NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tus_finished" ADD CONSTRAINT "tus_finished_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tus_finished_expires_at_idx" ON "tus_finished" USING btree ("expires_at");