"""Which origins a sync asks for each locked object, in order.

The shared remote store first (while it is healthy this run), then the
model's own source. This is the one place that decides the order, so what
comes next plugs in here and nowhere else: mirrors of a model (after or before
its own source, as the machine says). The local store is asked before any of
these (by the engine). Every origin is untrusted: the engine verifies every
byte it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelpm.project.session import ProjectView
    from modelpm.transfer.origin import Origin, Wanted


def origins_for(view: ProjectView, wanted: Wanted) -> tuple[Origin, ...]:
    """The origins to try for ``wanted``, first choice first."""
    return (*remote_origins(view), view.source(wanted.source))


def remote_origins(view: ProjectView) -> tuple[Origin, ...]:
    """The remote store, unless there is none or it is down for this run."""
    remote = view.remote
    if remote is None or not remote.health.usable:
        return ()
    return (remote.origin,)
