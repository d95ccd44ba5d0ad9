"""Read configuration from the environment, failing with one line that names the variable.

Settings call these helpers; `exit_on_configuration_error` wraps the entry points (manage.py,
wsgi, asgi, Celery) so a bad variable stops start-up with that line instead of a traceback.
"""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigurationError(ImproperlyConfigured):
    """A missing or malformed environment variable."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise ConfigurationError(f"{name} is required but not set.")
    return default


def env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be a boolean (1/0, true/false), got {value!r}.")


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    problem = f"{name} must be a whole number >= {minimum}, got {value!r}."
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(problem) from None
    if number < minimum:
        raise ConfigurationError(problem)
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name, "").strip()
    if not value:
        if default is None:
            raise ConfigurationError(f"{name} is required but not set (comma-separated list).")
        return default
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ConfigurationError(f"{name} has an empty item: {value!r}.")
    return items


def env_url(name: str, *, schemes: set[str], default: str = "") -> str:
    """A URL whose scheme is one of `schemes`; the default (may be empty) when unset."""
    value = os.environ.get(name, "").strip() or default
    if not value:
        return ""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in schemes or (not rest and scheme != "filesystem"):
        allowed = ", ".join(sorted(f"{s}://" for s in schemes))
        raise ConfigurationError(f"{name} must be a URL starting with {allowed}, got {value!r}.")
    return value


def parse_or_fail(name: str, parse: Callable[[str], object], value: str) -> object:
    """Run a third-party parser and turn its error into one line naming the variable."""
    try:
        return parse(value)
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"{name} is malformed: {exc}") from None


@contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    try:
        yield
    except ConfigurationError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(2) from None
