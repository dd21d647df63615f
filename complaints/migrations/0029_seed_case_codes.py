"""Seed the categories, products and root causes staff pick from (issue 16); editable later."""

from django.db import migrations

CATEGORIES = [
    ("fault", "Fault or loss of service"),
    ("billing", "Billing"),
    ("contract", "Contract or terms"),
    ("installation", "Installation or engineer visit"),
    ("customer_service", "Customer service"),
    ("sales", "Sales or mis-selling"),
    ("other", "Something else"),
]
PRODUCTS = [
    ("broadband", "Broadband"),
    ("landline", "Landline"),
    ("mobile", "Mobile"),
    ("tv", "TV"),
    ("business", "Business services"),
]
ROOT_CAUSES = [
    ("supplier_fault", "Supplier fault"),
    ("process_failure", "Process failure"),
    ("system_error", "System error"),
    ("staff_error", "Staff error"),
    ("network_fault", "Network fault"),
    ("no_fault_found", "No fault found"),
]


def seed(apps, schema_editor):
    for model_name, rows in (
        ("Category", CATEGORIES),
        ("Product", PRODUCTS),
        ("RootCause", ROOT_CAUSES),
    ):
        model = apps.get_model("complaints", model_name)
        for position, (code, name) in enumerate(rows, start=1):
            model.objects.get_or_create(
                code=code, defaults={"name": name, "ordering": position * 10}
            )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0028_categories_root_causes")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
