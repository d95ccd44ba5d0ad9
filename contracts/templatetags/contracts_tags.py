from django import template

from config import durations
from contracts.models import Service
from contracts.phones import display_phone

register = template.Library()


@register.filter
def phone(e164: str) -> str:
    return display_phone(e164)


@register.filter
def business_duration(minutes: int) -> str:
    """480 -> "8 h", 90 -> "1 h 30 min", 45 -> "45 min" (`config.durations`)."""
    return durations.in_words(int(minutes or 0))


@register.filter
def service_names(codes) -> str:
    """["data", "fixed"] -> "Dati e connettività, Rete fissa": the services' labels in the
    reader's language (an unknown code is shown as it is)."""
    labels = dict(Service.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or ())
