"""`{{ note.body|free_text:sees_in_full|linebreaksbr }}`: a case's free text as the reader may
see it (care.privacy.shown_text). Without the flag, the text is masked: never more shown
than the reader may see."""

from django import template

from care.privacy import shown_text

register = template.Library()


@register.filter
def free_text(text, sees_in_full=False) -> str:
    return shown_text(str(text or ""), in_full=bool(sees_in_full))
