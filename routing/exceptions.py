from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PresidioError


class InvalidRoutingData(InvalidInput):
    code = "invalid_routing_data"
    default_message = _("Some data is not valid: check the highlighted fields.")


class NoOperatorProfile(NotFound):
    code = "operator_profile_not_found"
    default_message = _(
        "You have no operator profile yet. The supervisor of your site, or an administrator, "
        "creates it on the “People” page."
    )


class OperatorNotAvailable(Conflict):
    code = "operator_not_available"
    default_message = _("Set your presence to available to take a case.")


class CapacityReached(Conflict):
    code = "capacity_reached"
    default_message = _("You already hold as many cases as your capacity allows.")


class SupervisorOnly(PermissionDenied):
    code = "supervisor_only"
    default_message = _("Only a supervisor can do this.")


class TargetHasNoProfile(InvalidInput):
    code = "target_has_no_profile"
    default_message = _("This person has no operator profile: cases cannot be assigned to them.")


class TargetOffline(Conflict):
    code = "target_offline"
    default_message = _("This operator is offline: cases cannot be assigned to them.")


class TargetAtCapacity(Conflict):
    code = "target_at_capacity"
    default_message = _("This operator already holds as many cases as their capacity allows.")


class TargetNotEligible(Conflict):
    code = "target_not_eligible"
    default_message = _(
        "This operator is not certified for this case yet: give a reason to assign it anyway."
    )


class TargetLacksLanguage(Conflict):
    code = "target_lacks_language"
    default_message = _(
        "The case's queue asks for a language this operator does not speak: give a reason to "
        "assign it anyway."
    )


class CaseNotAssignable(Conflict):
    code = "case_not_assignable"
    default_message = _("A resolved or closed case cannot be assigned.")


class AlreadyAssignedToOperator(Conflict):
    code = "case_already_assigned"
    default_message = _("The case is already assigned to this operator.")


class QueueNotFound(NotFound):
    code = "queue_not_found"
    default_message = _("Queue not found.")


class OperatorNotFound(NotFound):
    code = "operator_not_found"
    default_message = _("Operator not found.")


class CallbackNotAvailable(Conflict):
    code = "callback_not_available"
    default_message = _("This callback was taken by someone else or is already done.")


class TelephonyNotConfigured(PresidioError):
    status = 503
    code = "telephony_not_configured"
    default_message = _("Telephony events are not accepted: no shared secret is configured.")


class BadTelephonySignature(PresidioError):
    status = 401
    code = "bad_signature"
    default_message = _("The event's signature is missing or wrong.")


class StaleTelephonyEvent(PresidioError):
    status = 401
    code = "stale_event"
    default_message = _("The event's timestamp is more than 5 minutes away: refused as a replay.")


class QueueNotInEmergency(Conflict):
    code = "queue_not_in_emergency"
    default_message = _("This queue is not in emergency: there is nothing to switch off.")


class OutsideSupervisorScope(PermissionDenied):
    """A supervisor acts on an operator of a site or on a queue they do not supervise."""

    code = "outside_supervisor_scope"
    default_message = _("This is outside the sites and queues you supervise.")


class ReassignOutsideScope(PermissionDenied):
    """A reassignment outside the supervisor's sites or queues, without an override reason."""

    code = "outside_scope_needs_reason"
    default_message = _(
        "This operator or this case is outside the sites and queues you supervise: only their "
        "supervisors may assign it, or give an override reason (it is recorded)."
    )


# --- Sites and queues set up by the unit (routing.administration) ---------------------------


class SetupNotAllowed(PermissionDenied):
    code = "setup_not_allowed"
    default_message = _("You may not change this site or queue (or these fields of it).")


class SiteNotFound(NotFound):
    code = "site_not_found"
    default_message = _("Site not found.")


class SiteHasOperators(Conflict):
    code = "site_has_operators"
    default_message = _("The site has operators: move them to another site first.")


class QueueHasCases(Conflict):
    code = "queue_has_cases"
    default_message = _("The queue has cases on record: archive it instead.")


class QueueHasWaitingCases(Conflict):
    code = "queue_has_waiting_cases"
    default_message = _("Cases wait in the queue: file them in the other queues first.")
