"""Form widgets of the pages.

`FlatSelect`: Django's `Select` renders every option through a template of its own, about
0.3 ms an option; the report filters carry some 200 options (clients, contracts, sites,
queues) on every report page and the dashboard, which made their template the largest part
of a page's time. `FlatSelect` writes the same markup in one pass.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class FlatSelect(forms.Select):
    """A `Select` with the markup of Django's templates (attributes, `selected`, optgroups),
    written without a template per option."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group, options, _index in widget["optgroups"]:
            html = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(o["value"]), flatatt(o["attrs"]), o["label"]) for o in options),
            )
            parts.append(
                format_html('<optgroup label="{}">{}</optgroup>', group, html) if group else html
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            flatatt(widget["attrs"]),
            SafeString("".join(parts)),
        )
