from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_customer_needs"),
        ("complaints", "0022_case_file_due_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="notice",
            name="communication_format",
            field=models.CharField(
                choices=[
                    ("standard", "As agreed for the complaint (no special format)"),
                    ("large_print", "Large-print letters"),
                    ("email_text", "Plain text in the email itself, no attachments"),
                    ("phone_with_copy", "By phone, with a written copy"),
                ],
                default="standard",
                help_text="The format the customer's recorded needs asked for when it was sent.",
                max_length=20,
                verbose_name="format",
            ),
        ),
    ]
