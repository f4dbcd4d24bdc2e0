CREATE TABLE "approval_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"approval_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "integrations" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets_encrypted" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "memory_dreams" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"engine" text NOT NULL,
	"outcome" text NOT NULL,
	"before" integer NOT NULL,
	"after" integer NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "slack_installations" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"enterprise_id" text,
	"bot_user_id" text,
	"installation_encrypted" text NOT NULL,
	"expires_at" timestamp with time zone,
	"installed_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "reason" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "incident_id" text;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "channel_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "card" jsonb;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "result" jsonb;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "verification" jsonb;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "executed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "pending_on" jsonb;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "checks" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "stale_reason" text;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "superseded_by" text;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "removed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "integrations" ADD CONSTRAINT "integrations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memory_dreams" ADD CONSTRAINT "memory_dreams_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approval_audit_approval_idx" ON "approval_audit" USING btree ("approval_id","id");--> statement-breakpoint
CREATE INDEX "approval_audit_workspace_idx" ON "approval_audit" USING btree ("workspace_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "integrations_name_idx" ON "integrations" USING btree ("workspace_id","kind","name");--> statement-breakpoint
CREATE INDEX "memory_dreams_workspace_idx" ON "memory_dreams" USING btree ("workspace_id","finished_at");--> statement-breakpoint
CREATE INDEX "approvals_workspace_idx" ON "approvals" USING btree ("workspace_id","created_at");