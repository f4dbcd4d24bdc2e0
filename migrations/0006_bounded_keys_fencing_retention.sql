ALTER TABLE "channels" ADD COLUMN "history_cursor" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "group_label" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "first_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "kind" text DEFAULT 'body' NOT NULL;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "event_id" bigint;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "tick_fence" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "decisions_created_idx" ON "decisions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "events_received_idx" ON "events" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "outbox_created_idx" ON "outbox" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "quarantine_received_idx" ON "quarantine" USING btree ("received_at");