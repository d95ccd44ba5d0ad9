"""What routing answers when the care app asks or announces something."""

from routing import services


def queue_for_new_case(sender, case, **kwargs) -> str:
    """Intake asks which queue a new case enters, inside its own transaction."""
    return services.queue_for(case)
