"""What contracts needs from the apps above it, declared once and plugged in once (DESIGN.md
§4): contracts imports no other app, yet the caller lookup shows each caller's open cases,
which are care's. `care.apps.CareConfig.ready()` plugs `care.selectors.open_cases_of_end_users`
in; without it (contracts alone) a lookup shows none.
"""

from collections.abc import Callable, Iterable

OpenCases = Callable[[Iterable[int]], dict[int, list[dict]]]


def _no_open_cases(end_user_ids: Iterable[int]) -> dict[int, list[dict]]:
    return {}


_open_cases: OpenCases = _no_open_cases


def open_cases_of(end_user_ids: Iterable[int]) -> dict[int, list[dict]]:
    """{end user id: [summary of an open case, ...]} for the lookup's callers."""
    return _open_cases(list(end_user_ids))


def use_open_cases(provider: OpenCases) -> OpenCases:
    """Plug the open-cases read in; returns the one it replaces (tests put it back)."""
    global _open_cases
    previous, _open_cases = _open_cases, provider
    return previous
