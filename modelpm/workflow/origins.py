"""Which origins a sync asks for each locked object, in order.

Today: the model's own source. This is the one place that decides the order, so
what comes next plugs in here and nowhere else: a remote store (before the
sources), mirrors of a model (after or before its own source, as the machine
says). Every origin is untrusted: the engine verifies every byte it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelpm.project.session import ProjectView
    from modelpm.transfer.origin import Origin, Wanted


def origins_for(view: ProjectView, wanted: Wanted) -> tuple[Origin, ...]:
    """The origins to try for ``wanted``, first choice first."""
    return (view.source(wanted.source),)
