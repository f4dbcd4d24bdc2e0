-- The approval audit trail is append-only: rows can be added, never changed or removed.
CREATE OR REPLACE FUNCTION approval_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'approval_audit is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER approval_audit_no_update BEFORE UPDATE OR DELETE ON "approval_audit"
  FOR EACH ROW EXECUTE FUNCTION approval_audit_append_only();
