"""Evidence cannot be changed in the database either (decisions.md, 39): PostgreSQL refuses an
UPDATE that alters what was frozen (only who made it may be cleared, as erasing an account does)
and any DELETE. Other databases (a developer's SQLite) rely on Evidence.save()."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION dfe_evidence_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Evidence behind a declaration is never deleted';
    END IF;
    IF NEW.content IS DISTINCT FROM OLD.content
       OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
       OR NEW.met IS DISTINCT FROM OLD.met
       OR NEW.participant_id IS DISTINCT FROM OLD.participant_id
       OR NEW.declaration_type IS DISTINCT FROM OLD.declaration_type
       OR NEW.made_at IS DISTINCT FROM OLD.made_at
       OR NEW.replaces_id IS DISTINCT FROM OLD.replaces_id THEN
        RAISE EXCEPTION 'Evidence is never changed once recorded; record a correction instead';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dfe_evidence_frozen BEFORE UPDATE OR DELETE ON dfe_evidence
    FOR EACH ROW EXECUTE FUNCTION dfe_evidence_frozen();
"""
DROP = """
DROP TRIGGER IF EXISTS dfe_evidence_frozen ON dfe_evidence;
DROP FUNCTION IF EXISTS dfe_evidence_frozen();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("dfe", "0007_output_price")]

    operations = [migrations.RunPython(forwards, backwards)]
