"""The portal form's one-use token moves onto the complaint it filed (issue 17).

Claiming the token was a statement of its own on every filing (an INSERT into
complaints_portalsubmission); on the complaint row, the complaint's own INSERT claims it.
The tokens already used are copied across, so a form sent before the upgrade and sent
again after it still files once.
"""

from django.db import migrations, models

COPY_TOKENS = """
UPDATE complaints_complaint
SET portal_token = (
    SELECT s.token FROM complaints_portalsubmission s
    WHERE s.complaint_id = complaints_complaint.id
)
WHERE id IN (
    SELECT complaint_id FROM complaints_portalsubmission WHERE complaint_id IS NOT NULL
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0036_complaint_overdue_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="complaint",
            name="portal_token",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                verbose_name="portal form token",
            ),
        ),
        migrations.RunSQL(COPY_TOKENS, reverse_sql=migrations.RunSQL.noop, elidable=False),
        migrations.AddConstraint(
            model_name="complaint",
            constraint=models.UniqueConstraint(
                condition=models.Q(("portal_token__isnull", False)),
                fields=("portal_token",),
                name="complaint_portal_token_uniq",
            ),
        ),
        migrations.RemoveField(model_name="portalsubmission", name="complaint"),
        migrations.DeleteModel(name="PortalSubmission"),
    ]
