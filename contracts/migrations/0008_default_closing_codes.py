"""The national default list of closing codes, used by every contract version that defines
none. `system` codes are the ones the portal sets by itself."""

from django.db import migrations

# (code, Italian name, English name, system)
DEFAULT_CODES = [
    ("risolto-informazioni", "Risolto con informazioni", "Resolved with information", False),
    ("risolto-configurazione", "Risolto con configurazione", "Resolved by configuration", False),
    ("guasto-rete", "Guasto di rete", "Network fault", False),
    ("sostituzione-sim", "Sostituzione SIM", "SIM replacement", False),
    ("blocco-sblocco-sim", "Blocco o sblocco SIM", "SIM blocked or unblocked", False),
    ("roaming", "Problema di roaming", "Roaming problem", False),
    ("fatturazione", "Chiarimento sulla fatturazione", "Billing explained", False),
    ("inoltrato-backoffice", "Inoltrato al back-office", "Forwarded to back-office", False),
    ("duplicato", "Pratica duplicata", "Duplicate case", False),
    ("non-competenza", "Non di competenza", "Not our responsibility", False),
    ("richiesta-annullata", "Richiesta annullata dal cliente", "Withdrawn by the customer", False),
    ("risolto-primo-contatto", "Risolto al primo contatto", "Resolved at first contact", True),
    ("risolto-da-unita", "Risolto dall'unità di inoltro", "Resolved by the hand-off unit", True),
    ("incidente-risolto", "Incidente risolto", "Major incident resolved", True),
]


def add_defaults(apps, schema_editor):
    ClosingCode = apps.get_model("contracts", "ClosingCode")
    for code, name_it, name_en, system in DEFAULT_CODES:
        ClosingCode.objects.get_or_create(
            version=None,
            code=code,
            defaults={"name_it": name_it, "name_en": name_en, "system": system},
        )


def remove_defaults(apps, schema_editor):
    ClosingCode = apps.get_model("contracts", "ClosingCode")
    ClosingCode.objects.filter(version=None, code__in=[c[0] for c in DEFAULT_CODES]).delete()


class Migration(migrations.Migration):
    dependencies = [("contracts", "0007_closing_codes")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
