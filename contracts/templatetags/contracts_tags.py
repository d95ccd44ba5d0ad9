from django import template
from django.utils.translation import gettext as _

from contracts.models import Service
from contracts.phones import display_phone

register = template.Library()


@register.filter
def phone(e164: str) -> str:
    return display_phone(e164)


@register.filter
def business_duration(minutes: int) -> str:
    """480 -> "8 h", 90 -> "1 h 30 min", 45 -> "45 min"."""
    hours, rest = divmod(int(minutes or 0), 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}


@register.filter
def service_names(codes) -> str:
    """["data", "fixed"] -> "Dati e connettività, Rete fissa": the services' labels in the
    reader's language (an unknown code is shown as it is)."""
    labels = dict(Service.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or ())
