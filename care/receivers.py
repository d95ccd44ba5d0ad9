"""What care does when the contracts app announces something."""

import logging

from care import services
from care.models import Attachment, Case
from contracts.selectors import calendar_spec_from_state

logger = logging.getLogger(__name__)


def move_deadlines_on_calendar_change(
    sender, calendar_id, effective_at, previous_state, contract_id=None, **kwargs
) -> None:
    moved = services.move_deadlines_after_calendar_change(
        calendar_id=calendar_id,
        effective_at=effective_at,
        previous_spec=calendar_spec_from_state(previous_state),
        contract_id=contract_id,
    )
    logger.info("calendar %s changed: due times of %s open cases moved", calendar_id, moved)


def end_users_of_case(kwargs: dict) -> list[int]:
    """The access log's subject of a case page: its caller, when an end user."""
    return [
        end_user
        for end_user in Case.objects.filter(reference=kwargs.get("reference")).values_list(
            "end_user_id", flat=True
        )
        if end_user
    ]


def end_users_of_attachment(kwargs: dict) -> list[int]:
    return [
        end_user
        for end_user in Attachment.objects.filter(id=kwargs.get("attachment_id")).values_list(
            "note__case__end_user_id", flat=True
        )
        if end_user
    ]
