ALTER TABLE "users" ADD COLUMN "watermarks" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "force_watermark" text;