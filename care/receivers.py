"""What care does when the contracts app announces something."""

import logging

from care import selectors, services
from contracts.selectors import calendar_spec_from_state

logger = logging.getLogger(__name__)


def open_cases_for_lookup(sender, end_user_ids, **kwargs) -> dict[int, list[dict]]:
    return selectors.open_cases_of_end_users(end_user_ids)


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
