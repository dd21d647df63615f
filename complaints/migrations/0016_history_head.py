"""Keep each complaint's history head (the last event's seq and hash) on the complaint."""

from django.db import migrations, models

# One statement, on both databases: the last event of each complaint, by the
# (complaint, seq) unique index. Complaints without events keep 0 and "".
HEADS_BACKFILL_SQL = """
UPDATE complaints_complaint
SET (history_count, history_head) = (
    SELECT e.seq, e.hash FROM complaints_caseevent e
    WHERE e.complaint_id = complaints_complaint.id
    ORDER BY e.seq DESC LIMIT 1
)
WHERE EXISTS (
    SELECT 1 FROM complaints_caseevent e WHERE e.complaint_id = complaints_complaint.id
)
"""


def heads_backfill(apps, schema_editor):
    schema_editor.execute(HEADS_BACKFILL_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0015_full_text_attachment"),
    ]

    operations = [
        migrations.AddField(
            model_name="complaint",
            name="history_count",
            field=models.PositiveIntegerField(
                default=0,
                editable=False,
                help_text="The position (seq) of the last event recorded.",
                verbose_name="events in the history",
            ),
        ),
        migrations.AddField(
            model_name="complaint",
            name="history_head",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                help_text="The hash of the last event recorded; empty before the first.",
                max_length=64,
                verbose_name="last event's hash",
            ),
        ),
        migrations.RunPython(heads_backfill, migrations.RunPython.noop, elidable=False),
    ]
