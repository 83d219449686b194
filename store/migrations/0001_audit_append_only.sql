-- The audit trail is append-only: a database-level guard, so no code path can rewrite history.
CREATE FUNCTION sentinel_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_records is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION sentinel_audit_append_only();
