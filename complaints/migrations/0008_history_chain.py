"""Chain each complaint's history by hash; on PostgreSQL refuse UPDATE and DELETE of it."""

from django.db import migrations, models

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION complaints_caseevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Case history is append-only: % of complaints_caseevent refused', TG_OP;
END;
$$;
CREATE TRIGGER caseevent_append_only
    BEFORE UPDATE OR DELETE ON complaints_caseevent
    FOR EACH ROW EXECUTE FUNCTION complaints_caseevent_append_only();
"""

DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS caseevent_append_only ON complaints_caseevent;
DROP FUNCTION IF EXISTS complaints_caseevent_append_only();
"""


def chain_existing_history(apps, schema_editor):
    """Number each complaint's events in the order they were written and hash them."""
    from complaints.services.history import event_hash

    CaseEvent = apps.get_model("complaints", "CaseEvent")
    db = schema_editor.connection.alias
    batch, current, seq, prev_hash = [], None, 0, ""
    for event in CaseEvent.objects.using(db).order_by("complaint_id", "pk").iterator(1000):
        if event.complaint_id != current:
            current, seq, prev_hash = event.complaint_id, 0, ""
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = event_hash(event)
        batch.append(event)
        if len(batch) >= 1000:
            CaseEvent.objects.using(db).bulk_update(batch, ["seq", "prev_hash", "hash"])
            batch = []
    CaseEvent.objects.using(db).bulk_update(batch, ["seq", "prev_hash", "hash"])
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred foreign-key checks now, so the ALTER TABLEs that follow may run.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def add_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def drop_append_only_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0007_report_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="seq",
            field=models.PositiveIntegerField(
                editable=False,
                help_text="Place in the complaint's history, from 1.",
                null=True,
                verbose_name="position",
            ),
        ),
        migrations.AddField(
            model_name="caseevent",
            name="prev_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The hash of the event before; empty for the first.",
                max_length=64,
                verbose_name="previous hash",
            ),
        ),
        migrations.AddField(
            model_name="caseevent",
            name="hash",
            field=models.CharField(
                default="",
                editable=False,
                help_text="SHA-256 of this event's content and previous hash (services.history).",
                max_length=64,
                verbose_name="hash",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_history, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="caseevent",
            name="seq",
            field=models.PositiveIntegerField(
                editable=False,
                help_text="Place in the complaint's history, from 1.",
                verbose_name="position",
            ),
        ),
        migrations.AddConstraint(
            model_name="caseevent",
            constraint=models.UniqueConstraint(
                fields=("complaint", "seq"), name="caseevent_one_per_seq"
            ),
        ),
        migrations.RunPython(add_append_only_trigger, drop_append_only_trigger),
    ]
