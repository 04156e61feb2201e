DROP INDEX "files_user_created_idx";--> statement-breakpoint
CREATE INDEX "files_user_name_idx" ON "files" USING btree ("user_id","name","id");--> statement-breakpoint
CREATE INDEX "files_user_size_idx" ON "files" USING btree ("user_id","size","id");--> statement-breakpoint
CREATE INDEX "files_user_expires_idx" ON "files" USING btree ("user_id","expires_at") WHERE "files"."expires_at" is not null and "files"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "files_user_created_idx" ON "files" USING btree ("user_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);