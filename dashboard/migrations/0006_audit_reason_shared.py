from __future__ import annotations

from typing import Any

from django.db import migrations, models


def share_what_customers_could_already_read(apps: Any, schema_editor: Any) -> None:
    """Members' own words, and upgrade notes (written for the customer, on the edge page's
    timeline too), stay readable; support's and the platform's other reasons become internal."""
    audit_event = apps.get_model("dashboard", "AuditEvent")
    rows = audit_event.objects.exclude(reason="")
    rows.filter(actor__is_staff=False).update(reason_shared=True)
    rows.filter(action__startswith="upgrade.").update(reason_shared=True)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0005_preferences"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="reason_shared",
            field=models.BooleanField(default=False, db_default=False),
        ),
        migrations.RunPython(share_what_customers_could_already_read, migrations.RunPython.noop),
    ]
