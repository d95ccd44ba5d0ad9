from django.db import migrations


def create_default_queue(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    Queue.objects.get_or_create(code="generale", defaults={"name": "Generale"})


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunPython(create_default_queue, migrations.RunPython.noop)]
