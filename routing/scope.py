"""What a supervisor sees and acts on (DESIGN §2): the operators of their sites and their
queues. Administrators and managers see the whole unit. A supervisor who runs no site and no
queue sees nothing; the pages say so instead of showing everything.

Reads apply the scope as a filter (`operators_filter`, `queues_filter`), never row by row;
writes on someone else's operators or queues are refused (`OutsideSupervisorScope`), except a
reassignment to an operator of another site, which an override reason allows (audited).
"""

from dataclasses import dataclass

from django.db.models import CharField, Q, Value

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


# The whole unit: what administrators and managers reach, and what reads default to when
# they are not asked on someone's behalf (tasks, benchmarks).
NATIONAL = SupervisorScope(national=True, site_ids=frozenset(), queue_ids=frozenset())


def supervisor_scope(user) -> SupervisorScope:
    """The sites and queues `user` supervises (one query: a UNION ALL), or national reach."""
    if user.has_perm("config.administer") or user.has_perm("config.manage_contracts"):
        return NATIONAL
    sites = (
        Site.objects.filter(supervisors=user)
        .annotate(kind=Value("site", output_field=CharField()))
        .values_list("kind", "id")
        .order_by()
    )
    queues = (
        Queue.objects.filter(supervisors=user)
        .annotate(kind=Value("queue", output_field=CharField()))
        .values_list("kind", "id")
        .order_by()
    )
    rows = list(sites.union(queues, all=True))
    return SupervisorScope(
        national=False,
        site_ids=frozenset(row_id for kind, row_id in rows if kind == "site"),
        queue_ids=frozenset(row_id for kind, row_id in rows if kind == "queue"),
    )
