"""Contract terms used across the test suite."""

from contracts import services

TARGETS = [
    services.TargetTerms("P1", 30, 240),
    services.TargetTerms("P2", 60, 960),
    services.TargetTerms("P3", 240, 2400),
    services.TargetTerms("P4", 480, 4800),
]
CATEGORIES = [
    services.CategoryTerms(
        "sim-lost", "SIM smarrita o rubata", "P2", "Numero coinvolto: …\nDenuncia presentata: sì/no"
    ),
    services.CategoryTerms("roaming", "Roaming non funzionante", "P3"),
]


def terms(**changes) -> services.ContractTerms:
    values = {
        "sla_targets": TARGETS,
        "categories": CATEGORIES,
        "card_markdown": "## Chi è abilitato\nTutti i dipendenti con matricola.",
    }
    values.update(changes)
    return services.ContractTerms(**values)
