"""What routing does when the care app announces something (its answers to care are plugged
into care.ports by RoutingConfig.ready)."""

from routing import services


def offer_opened_case(sender, case_id, **kwargs) -> None:
    """A case was opened (sent after commit): offer it to the operator idle longest."""
    services.trigger_offer_case(case_id)


def offer_freed_capacity(sender, case_id, assignee_id=None, **kwargs) -> None:
    """A case left its holder (resolved, closed, merged or sent back to the queue; sent after
    commit): the holder's freed capacity, and the case if it waits again, are offered."""
    services.trigger_offer_waiting(assignee_id)
    services.trigger_offer_case(case_id)
