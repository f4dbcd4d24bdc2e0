ALTER TABLE "sources" ADD COLUMN "secret_encrypted" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;