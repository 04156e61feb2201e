CREATE TABLE "video_renditions" (
	"key" text PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL,
	"bytes" bigint NOT NULL,
	"used_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "video_renditions_sha256_idx" ON "video_renditions" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "video_renditions_used_idx" ON "video_renditions" USING btree ("used_at");