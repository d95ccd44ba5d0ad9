from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class InvalidRoutingData(InvalidInput):
    code = "invalid_routing_data"
    default_message = _("Some data is not valid: check the highlighted fields.")


class NoOperatorProfile(NotFound):
    code = "operator_profile_not_found"
    default_message = _("You have no operator profile: ask a supervisor to create it.")


class OperatorNotAvailable(Conflict):
    code = "operator_not_available"
    default_message = _("Set your presence to available to take a case.")


class CapacityReached(Conflict):
    code = "capacity_reached"
    default_message = _("You already hold as many cases as your capacity allows.")


class SupervisorOnly(PermissionDenied):
    code = "supervisor_only"
    default_message = _("Only a supervisor can do this.")
