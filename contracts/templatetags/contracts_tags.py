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
    """480 -> "8 h", 2400 -> "40 h", 90 -> "1 h 30 min" (working time, never days)."""
    return durations.working_time_in_words(minutes)


@register.filter
def service_names(codes) -> str:
    """["data", "fixed"] -> "Dati e connettività, Rete fissa": the services' labels in the
    reader's language (an unknown code is shown as it is)."""
    labels = dict(Service.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or ())
