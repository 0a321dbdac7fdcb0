"""On PostgreSQL the database itself refuses to change or delete audit entries."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION moderation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the moderation audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER moderation_audit_append_only
    BEFORE UPDATE OR DELETE ON moderation_auditentry
    FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS moderation_audit_append_only ON moderation_auditentry;
DROP FUNCTION IF EXISTS moderation_audit_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
