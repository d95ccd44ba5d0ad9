"""Back-office pages: the workspace, contract orders and the loyalty worklist.

Each action posts to its own URL, calls one service and redirects back to the page
(POST-redirect-GET); a refused action is said at the top of the page. The "Prossimo ordine"
pull lives in `routing.backoffice` (contracts imports no other app).
"""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config import actions, people
from config.errors import PresidioError
from config.forms import add_service_errors, failed_form, keep_failed_form
from config.inputs import whole_number
from config.permissions import capability_required
from contracts.models import Contract, LoyaltyOutcome, OrderEvent, OrderState
from contracts.orders import selectors, services
from contracts.orders.forms import (
    LoyaltyActionForm,
    LoyaltyCloseForm,
    OrderDocumentForm,
    OrderForm,
    OrderNoteForm,
    OrderTransitionForm,
)

WORK = ("work_backoffice",)
READ = ("work_backoffice", "manage_contracts")
LIST_LIMIT = 200


def _say_error(request, error: PresidioError) -> None:
    parts = [str(error.message)]
    for field_messages in error.fields.values():
        parts.extend(str(m) for m in field_messages if str(m) not in parts)
    messages.error(request, " ".join(parts))


# --- Workspace and lists --------------------------------------------------------------------


@capability_required(*WORK)
@require_GET
def workspace(request):
    return render(
        request,
        "contracts/orders/workspace.html",
        {**selectors.backoffice_workspace(request.user), "now": timezone.now()},
    )


@capability_required(*READ)
@require_GET
def order_list(request):
    filterset = selectors.OrderFilter(
        request.GET or None, queryset=selectors.order_list(request.user)
    )
    orders = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    return render(
        request,
        "contracts/orders/order_list.html",
        {
            "orders": orders[:LIST_LIMIT],
            "states": OrderState.choices,
            "now": timezone.now(),
        },
    )


# --- Orders ---------------------------------------------------------------------------------


@capability_required(*WORK)
@require_http_methods(["GET", "POST"])
def order_create(request):
    """Blank, or from a case: `?case=CS-…&contract=CODE` (the case page's "Apri ordine")."""
    initial = {"owner": request.user.get_username()}
    case_reference = request.GET.get("case", "").strip().upper()[:20]
    contract = None
    code = request.POST.get("contract") or request.GET.get("contract", "")
    if code:
        contract = Contract.objects.select_related("client").filter(code=code.upper()).first()
    if case_reference:
        initial["case_reference"] = case_reference
    if contract is not None:
        initial["contract"] = contract.code
    form = OrderForm(
        request.POST or None,
        initial=initial,
        user=request.user,
        client=contract.client if contract else None,
    )
    similar_orders = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            order = services.create_order(
                actor=request.user,
                kind=data["kind"],
                contract=data["contract"],
                lines=form.lines(),
                summary=data["summary"],
                description=data["description"],
                requester=data["requester"],
                owner=data["owner"],
                case_reference=data["case_reference"],
                duplicate_override_reason=data["duplicate_override_reason"],
            )
        except PresidioError as error:
            if isinstance(error, services.DuplicateOrderSuspected):
                similar_orders = error.candidates
            add_service_errors(form, error, aliases={"lines": "line_1_service"})
        else:
            messages.success(request, _("Order %(ref)s created.") % {"ref": order.reference})
            return redirect("backoffice:order-detail", reference=order.reference)
    return render(
        request,
        "contracts/orders/order_form.html",
        {
            "form": form,
            "contract": contract,
            "case_reference": case_reference or form["case_reference"].value(),
            "similar_orders": similar_orders,
        },
    )


def _order_page(reference: str) -> str:
    return f"order:{reference}"


def _transition_form(to: str, data=None) -> OrderTransitionForm:
    """The move to `to`, its field ids its own (several such forms share the page)."""
    return OrderTransitionForm(data, auto_id=f"id_{to}_%s", initial={"to": to})


ORDER_FORMS = {
    "note_form": lambda data=None: OrderNoteForm(data),
    "document_form": lambda data=None: OrderDocumentForm(data),
}


def _rebuilt_order_form(name: str, data: dict):
    if name.startswith("move:"):
        return _transition_form(name.removeprefix("move:"), data)
    build = ORDER_FORMS.get(name)
    return build(data) if build else None


@capability_required(*READ)
@require_GET
def order_detail(request, reference: str):
    """The order page. A refused action comes back here (PRG) with its form: the field at
    fault highlighted with its message, the cancel or reject form open again."""
    order = selectors.order_for(request.user, reference)
    forms = {name: build() for name, build in ORDER_FORMS.items()}
    failed = failed_form(request, page=_order_page(order.reference), build=_rebuilt_order_form)
    failed_move = ""
    if failed is not None and failed[0].startswith("move:"):
        failed_move = failed[0].removeprefix("move:")
    elif failed is not None:
        forms[failed[0]] = failed[1]
    submitter_id = selectors.order_submitter_id(order.id)
    own_submission = order.state == OrderState.SUBMITTED and submitter_id == request.user.id
    single_person = order.contract.single_person_order_validation
    destinations = [
        s
        for s in OrderState.values
        if s in services.TRANSITIONS[order.state]
        # Four eyes: no button the service would refuse (the page says who validates).
        and not (s == OrderState.VALIDATED and own_submission and not single_person)
    ]
    moves = []
    for to, action in actions.moves(actions.ORDER, destinations):
        form = failed[1] if failed is not None and to == failed_move else _transition_form(to)
        moves.append({"to": to, "action": action, "form": form})
    return render(
        request,
        "contracts/orders/order_detail.html",
        {
            "order": order,
            "moves": [m for m in moves if not m["action"].asks_reason],
            "reasoned_moves": [m for m in moves if m["action"].asks_reason],
            "failed_move": failed_move,
            "failed_form": failed[1] if failed else None,
            "can_work": request.user.has_perm("config.work_backoffice"),
            "own_submission": own_submission,
            "single_person_allowed": single_person,
            "events": _labelled(reversed(order.events.all())),
            "now": timezone.now(),
            **forms,
        },
    )


def _labelled(events) -> list:
    """Events with their states' labels (the stored values are codes), and for a change of
    owner the people's names (one query for the whole timeline) and how it happened, in the
    reader's language."""
    events = list(events)
    owners = [e.detail or {} for e in events if e.kind == OrderEvent.Kind.OWNER_CHANGED]
    by_id, by_username = people.names_of(
        ids=[d.get(key) for d in owners for key in ("from_user", "to_user")],
        usernames=[d.get(key, "") for d in owners for key in ("from", "to")],
    )

    def name(detail: dict, side: str) -> str:
        person = detail.get(f"{side}_user")
        return by_id.get(person) or by_username.get(detail.get(side, ""), detail.get(side, ""))

    for event in events:
        event.from_label = _state_label(event.from_state)
        event.to_label = _state_label(event.to_state)
        detail = event.detail or {}
        if event.kind == OrderEvent.Kind.OWNER_CHANGED:
            event.owner_change = name(detail, "to") or _("back to the pool")
            event.how_said = _("taken from the back-office pool") if detail.get("how") else ""
    return events


def _state_label(value: str) -> str:
    return str(OrderState(value).label) if value in OrderState.values else value


def _back_to(order_reference: str):
    return redirect("backoffice:order-detail", reference=order_reference)


def _refused(request, order, form, name: str, error: PresidioError | None = None):
    """Back to the order page with the refused form (its fields highlighted)."""
    if error is not None:
        add_service_errors(form, error)
    keep_failed_form(request, form, page=_order_page(order.reference), name=name)
    return redirect(f"{reverse('backoffice:order-detail', args=[order.reference])}#{name}")


@capability_required(*WORK)
@require_POST
def order_transition(request, reference: str):
    order = selectors.order_for(request.user, reference)
    to = request.POST.get("to", "")
    if to not in OrderState.values:
        messages.error(request, _("Choose a state."))
        return _back_to(order.reference)
    form = _transition_form(to, request.POST)
    if not form.is_valid():
        return _refused(request, order, form, f"move:{to}")
    try:
        order = services.transition_order(
            actor=request.user,
            order=order,
            to=form.cleaned_data["to"],
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["row_version"],
        )
    except PresidioError as error:
        if "reason" in error.fields:
            return _refused(request, order, form, f"move:{to}", error)
        _say_error(request, error)
    else:
        messages.success(
            request, _("State changed to «%(state)s».") % {"state": order.get_state_display()}
        )
    return _back_to(order.reference)


@capability_required(*WORK)
@require_POST
def order_assign(request, reference: str):
    """Take the order (`owner=me`) or give it back to the pool (`owner=` empty)."""
    order = selectors.order_for(request.user, reference)
    owner = request.user if request.POST.get("owner") == "me" else None
    row_version = request.POST.get("row_version", "")
    try:
        services.assign_order(
            actor=request.user,
            order=order,
            owner=owner,
            expected_version=whole_number(row_version),
        )
    except PresidioError as error:
        _say_error(request, error)
    else:
        messages.success(
            request, _("The order is yours.") if owner else _("The order is back in the pool.")
        )
    return _back_to(order.reference)


@capability_required(*WORK)
@require_POST
def order_note(request, reference: str):
    order = selectors.order_for(request.user, reference)
    form = OrderNoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, order, form, "note_form")
    try:
        services.add_order_note(actor=request.user, order=order, **form.cleaned_data)
    except PresidioError as error:
        return _refused(request, order, form, "note_form", error)
    messages.success(request, _("Note added."))
    return _back_to(order.reference)


@capability_required(*WORK)
@require_POST
def order_document(request, reference: str):
    order = selectors.order_for(request.user, reference)
    form = OrderDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, order, form, "document_form")
    try:
        services.attach_document(actor=request.user, order=order, upload=form.cleaned_data["file"])
    except PresidioError as error:
        return _refused(request, order, form, "document_form", error)
    messages.success(request, _("Document attached."))
    return _back_to(order.reference)


@capability_required(*READ)
@require_GET
def order_document_download(request, reference: str, document_id: int):
    order = selectors.order_for(request.user, reference)
    document = next((d for d in order.documents.all() if d.id == document_id), None)
    if document is None:
        raise Http404
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


# --- Loyalty --------------------------------------------------------------------------------


def _loyalty_page(pk: int) -> str:
    return f"loyalty:{pk}"


LOYALTY_FORMS = {
    "action_form": lambda data=None: LoyaltyActionForm(data, prefix="action"),
    "close_form": lambda data=None: LoyaltyCloseForm(data, prefix="close"),
    "lost_form": lambda data=None: _lost_form(data),
}


def _lost_form(data=None) -> LoyaltyCloseForm:
    """The outcome form behind "Segna come perso…": its own ids, the note asks why."""
    form = LoyaltyCloseForm(data, prefix="close", auto_id="id_lost_%s")
    form.fields["note"].label = _("Why is the contract lost?")
    return form


def _rebuilt_loyalty_form(name: str, data: dict):
    build = LOYALTY_FORMS.get(name)
    return build(data) if build else None


@capability_required(*READ)
@require_GET
def loyalty_detail(request, pk: int):
    """The loyalty item; a refused action comes back here (PRG) with its form and errors."""
    item = selectors.loyalty_item_for(request.user, pk)
    forms = {name: build() for name, build in LOYALTY_FORMS.items()}
    failed = failed_form(request, page=_loyalty_page(item.id), build=_rebuilt_loyalty_form)
    if failed is not None:
        forms[failed[0]] = failed[1]
    outcomes = actions.moves(actions.LOYALTY, LoyaltyOutcome.values[1:])
    return render(
        request,
        "contracts/loyalty/item_detail.html",
        {
            "item": item,
            "can_work": request.user.has_perm("config.work_backoffice"),
            "outcomes": [(value, a) for value, a in outcomes if not a.asks_reason],
            "lost_action": actions.action_for(actions.LOYALTY, LoyaltyOutcome.LOST),
            "failed_name": failed[0] if failed else "",
            "today": timezone.localdate(),
            **forms,
        },
    )


def _loyalty_refused(request, item, form, name: str, error: PresidioError | None = None):
    if error is not None:
        add_service_errors(form, error)
    keep_failed_form(request, form, page=_loyalty_page(item.id), name=name)
    return redirect(f"{reverse('backoffice:loyalty-detail', args=[item.id])}#{name}")


@capability_required(*WORK)
@require_POST
def loyalty_action(request, pk: int):
    item = selectors.loyalty_item_for(request.user, pk)
    form = LoyaltyActionForm(request.POST, prefix="action")
    if not form.is_valid():
        return _loyalty_refused(request, item, form, "action_form")
    try:
        services.record_loyalty_action(actor=request.user, item=item, **form.cleaned_data)
    except PresidioError as error:
        return _loyalty_refused(request, item, form, "action_form", error)
    messages.success(request, _("Action recorded."))
    return redirect("backoffice:loyalty-detail", pk=item.id)


@capability_required(*WORK)
@require_POST
def loyalty_close(request, pk: int):
    item = selectors.loyalty_item_for(request.user, pk)
    form = LoyaltyCloseForm(request.POST, prefix="close")
    name = "lost_form" if request.POST.get("close-outcome") == LoyaltyOutcome.LOST else "close_form"
    if not form.is_valid():
        return _loyalty_refused(request, item, form, name)
    try:
        item = services.close_loyalty_item(actor=request.user, item=item, **form.cleaned_data)
    except PresidioError as error:
        return _loyalty_refused(request, item, form, name, error)
    if item.renewal_order_id:
        order = item.renewal_order
        messages.success(
            request, _("Outcome recorded; renewal order %(ref)s opened.") % {"ref": order.reference}
        )
        return redirect("backoffice:order-detail", reference=order.reference)
    messages.success(request, _("Outcome recorded."))
    return redirect("backoffice:loyalty-detail", pk=item.id)
