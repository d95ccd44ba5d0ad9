"""What a supervisor sees and acts on (DESIGN §2): the operators of their sites and their
queues. Administrators and managers see the whole unit. A supervisor who runs no site and no
queue sees nothing; the pages say so instead of showing everything.
"""

from dataclasses import dataclass

from django.db.models import Q

from routing.models import Queue, Site


@dataclass(frozen=True)
class SupervisorScope:
    national: bool
    site_ids: frozenset[int]
    queue_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not self.national and not self.site_ids and not self.queue_ids

    def covers_site(self, site_id: int | None) -> bool:
        return self.national or (site_id is not None and site_id in self.site_ids)

    def covers_queue(self, queue_id: int | None) -> bool:
        return self.national or (queue_id is not None and queue_id in self.queue_ids)

    def operators_filter(self, prefix: str = "") -> Q:
        """A filter on operator profiles (or on rows reaching them through `prefix`)."""
        if self.national:
            return Q()
        return Q(**{f"{prefix}site_id__in": self.site_ids})

    def queues_filter(self, prefix: str = "") -> Q:
        if self.national:
            return Q()
        return Q(**{f"{prefix}id__in": self.queue_ids})


def supervisor_scope(user) -> SupervisorScope:
    """The sites and queues `user` supervises (two small queries), or national reach."""
    if user.has_perm("config.administer") or user.has_perm("config.manage_contracts"):
        return SupervisorScope(national=True, site_ids=frozenset(), queue_ids=frozenset())
    site_ids = frozenset(Site.objects.filter(supervisors=user).values_list("id", flat=True))
    queue_ids = frozenset(Queue.objects.filter(supervisors=user).values_list("id", flat=True))
    return SupervisorScope(national=False, site_ids=site_ids, queue_ids=queue_ids)
