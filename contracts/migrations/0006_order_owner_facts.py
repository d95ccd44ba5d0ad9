"""An order taken from the back-office pool stored the English words «back-office pull» as
its reason; it now stores how it happened (`how: "pull"`), said in the reader's language.
Other reasons (a person's words) are kept."""

from django.db import migrations

BATCH = 2000


def forward(apps, schema_editor):
    OrderEvent = apps.get_model("contracts", "OrderEvent")
    pulled = OrderEvent.objects.filter(kind="owner_changed", detail__reason="back-office pull")
    while batch := list(pulled.order_by("id").only("id", "detail")[:BATCH]):
        for event in batch:  # the next read no longer finds these
            event.detail = {k: v for k, v in event.detail.items() if k != "reason"}
            event.detail["how"] = "pull"
        OrderEvent.objects.bulk_update(batch, ["detail"])


class Migration(migrations.Migration):
    dependencies = [("contracts", "0005_single_person_order_validation")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
