"""What a status button says and how it looks: one mapping for the case, order and loyalty
pages (and their tests).

A button says what it does ("Prendi in carico", "Annulla ordine…"), never the state it leads
to ("In lavorazione", "Annullato"). Destructive moves look destructive (`danger`) and ask for
a reason before they happen: their button opens a small form (the label ends with "…") whose
submit button repeats the action (`confirm`).

Keys are the stored state values (strings), so this module imports no app: a transition is
found by (what, from, to), then (what, any, to).
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

ANY = "*"
CASE, ORDER, LOYALTY = "case", "order", "loyalty"
# The case page's re-opening (its own form, its own service): resolved/closed -> in progress.
REOPEN = "reopen"


@dataclass(frozen=True)
class Action:
    label: Promise  # the button that starts the action
    style: str = "primary"  # primary, secondary or danger
    asks_reason: bool = False  # destructive: a form asks why before anything happens
    confirm: Promise | None = None  # the submit button of that form

    @property
    def css(self) -> str:
        return f"button-{self.style}"

    @property
    def confirm_label(self) -> Promise:
        return self.confirm or self.label


ACTIONS: dict[tuple[str, str, str], Action] = {
    # Cases
    (CASE, ANY, "in_progress"): Action(pgettext_lazy("case action", "Take in charge")),
    (CASE, "waiting_customer", "in_progress"): Action(pgettext_lazy("case action", "Resume")),
    (CASE, ANY, "waiting_customer"): Action(
        pgettext_lazy("case action", "Wait for the customer"), style="secondary"
    ),
    (CASE, ANY, "new"): Action(pgettext_lazy("case action", "Give back to the queue"), "secondary"),
    (CASE, ANY, "resolved"): Action(
        pgettext_lazy("case action", "Resolve…"),
        confirm=pgettext_lazy("case action", "Resolve the case"),
    ),
    (CASE, ANY, "closed"): Action(pgettext_lazy("case action", "Close"), style="secondary"),
    (CASE, ANY, REOPEN): Action(
        pgettext_lazy("case action", "Reopen…"),
        style="secondary",
        asks_reason=True,
        confirm=pgettext_lazy("case action", "Reopen the case"),
    ),
    # Contract orders
    (ORDER, ANY, "submitted"): Action(pgettext_lazy("order action", "Send for validation")),
    (ORDER, ANY, "validated"): Action(pgettext_lazy("order action", "Validate")),
    (ORDER, ANY, "provisioning"): Action(pgettext_lazy("order action", "Start provisioning")),
    (ORDER, ANY, "completed"): Action(pgettext_lazy("order action", "Complete")),
    (ORDER, ANY, "rejected"): Action(
        pgettext_lazy("order action", "Reject…"),
        style="danger",
        asks_reason=True,
        confirm=pgettext_lazy("order action", "Reject the order"),
    ),
    (ORDER, ANY, "cancelled"): Action(
        pgettext_lazy("order action", "Cancel order…"),
        style="danger",
        asks_reason=True,
        confirm=pgettext_lazy("order action", "Cancel the order"),
    ),
    # Loyalty items: the outcome closes the item
    (LOYALTY, ANY, "renewed"): Action(pgettext_lazy("loyalty action", "Mark as renewed")),
    (LOYALTY, ANY, "renegotiated"): Action(pgettext_lazy("loyalty action", "Mark as renegotiated")),
    (LOYALTY, ANY, "lost"): Action(
        pgettext_lazy("loyalty action", "Mark as lost…"),
        style="danger",
        asks_reason=True,
        confirm=pgettext_lazy("loyalty action", "Confirm: the contract is lost"),
    ),
}


def action_for(what: str, to: str, *, from_state: str = ANY) -> Action:
    """The button of the move of `what` (case, order, loyalty) from `from_state` to `to`."""
    found = ACTIONS.get((what, from_state, to)) or ACTIONS.get((what, ANY, to))
    if found is None:
        raise KeyError(f"no action label for {what}: {from_state} -> {to}")
    return found


def moves(what: str, destinations, *, from_state: str = ANY) -> list[tuple[str, Action]]:
    """(target, action) for each allowed destination, in the order given."""
    return [(to, action_for(what, to, from_state=from_state)) for to in destinations]
