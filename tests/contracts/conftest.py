"""Contract fixtures live in tests/fixtures_contracts.py (shared with other apps)."""

from tests.contract_terms import CATEGORIES, TARGETS, terms

__all__ = ["CATEGORIES", "TARGETS", "terms"]
