ALTER TABLE "files" ADD COLUMN "public_storage_key" text;--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "public_sha256" text;