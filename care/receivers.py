"""What care does when the contracts app announces something."""

from care import selectors


def open_cases_for_lookup(sender, end_user_ids, **kwargs) -> dict[int, list[dict]]:
    return selectors.open_cases_of_end_users(end_user_ids)
