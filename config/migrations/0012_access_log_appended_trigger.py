"""The access log's chain head and its index of end users, kept by the database (#25): one
INSERT of the row moves the head to its hash and lists the end users of its `detail`
(`end_users`) in `config_accesslogsubject`, where the writer used to send two more
statements per logged request."""

from django.db import migrations

POSTGRESQL = """
CREATE FUNCTION presidio_access_log_appended() RETURNS trigger AS $$
BEGIN
    UPDATE config_accesschainhead SET last_hash = NEW.row_hash WHERE id = 1;
    IF jsonb_typeof(NEW.detail -> 'end_users') = 'array' THEN
        INSERT INTO config_accesslogsubject (entry_id, end_user_id, user_id, at)
        SELECT NEW.id, value::bigint, NEW.user_id, NEW.at
        FROM jsonb_array_elements_text(NEW.detail -> 'end_users');
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER config_accesslog_appended
    AFTER INSERT ON config_accesslog
    FOR EACH ROW EXECUTE FUNCTION presidio_access_log_appended();
"""
DROP_POSTGRESQL = """
DROP TRIGGER IF EXISTS config_accesslog_appended ON config_accesslog;
DROP FUNCTION IF EXISTS presidio_access_log_appended();
"""
SQLITE = """
CREATE TRIGGER config_accesslog_appended AFTER INSERT ON config_accesslog
BEGIN
    UPDATE config_accesschainhead SET last_hash = NEW.row_hash WHERE id = 1;
    INSERT INTO config_accesslogsubject (entry_id, end_user_id, user_id, at)
    SELECT NEW.id, CAST(value AS INTEGER), NEW.user_id, NEW.at
    FROM json_each(NEW.detail, '$.end_users')
    WHERE json_type(NEW.detail, '$.end_users') = 'array';
END;
"""
DROP_SQLITE = "DROP TRIGGER IF EXISTS config_accesslog_appended;"


def _run(postgresql, sqlite):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgresql, params=None)
        elif vendor == "sqlite":
            schema_editor.execute(sqlite, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0011_drf_tokens_become_scoped_tokens"),
    ]

    operations = [
        migrations.RunPython(_run(POSTGRESQL, SQLITE), _run(DROP_POSTGRESQL, DROP_SQLITE)),
    ]
