"""Which origins a sync asks for each locked object, in order.

This is the one place that decides the order:

    the shared remote store (while it is healthy this run), then
    the model's own repo on its source, then its mirrors in manifest order
    re-ranked by the machine's order of sources (MODELPM_SOURCES, the user config;
      a stable sort: the own repo before mirrors of the same source, and mirrors of
      one source in manifest order); sources the order leaves out come last

The local store is asked before any of these (by the engine). A mirror ranked
before the model's own repo is listed now and left out for a file it does not
list with the locked hash, so a file never waits on a mirror that cannot have
it; one ranked after is listed only if the origins before it failed. Every
origin is untrusted: the engine verifies every byte it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelpm.values import SourceKind

if TYPE_CHECKING:
    from modelpm.project.session import ProjectView
    from modelpm.transfer.origin import Origin, Wanted
    from modelpm.workflow.repo_origins import MirrorOrigin, RepoOrigin


def origins_for(view: ProjectView, wanted: Wanted) -> tuple[Origin, ...]:
    """The origins to try for ``wanted``, first choice first."""
    from modelpm.workflow.repo_origins import MirrorOrigin, RepoOrigin

    own = RepoOrigin(view.source(wanted.source), wanted.source, wanted.repo)
    # A model the manifest does not name yet (a publish --pin, before it writes the table)
    # has no mirrors.
    spec = next((spec for spec in view.manifest.models if spec.name == wanted.model), None)
    mirrors = [
        MirrorOrigin(view.mirrors, view.source, mirror, wanted.repo.repo_type)
        for mirror in (spec.mirrors if spec is not None else ())
    ]
    ranked = ranked_by(view.config.source_order, [own, *mirrors])
    first = ranked.index(own)
    return (
        *remote_origins(view),
        *(
            origin
            for index, origin in enumerate(ranked)
            if index >= first or not isinstance(origin, MirrorOrigin) or origin.has(wanted)
        ),
    )


def remote_origins(view: ProjectView) -> tuple[Origin, ...]:
    """The remote store, unless there is none or it is down for this run."""
    remote = view.remote
    if remote is None or not remote.health.usable:
        return ()
    return (remote.origin,)


def ranked_by(
    order: tuple[SourceKind, ...], origins: list[RepoOrigin | MirrorOrigin]
) -> list[RepoOrigin | MirrorOrigin]:
    """``origins`` (own repo first, then mirrors in manifest order) in the machine's order."""
    position = {kind: index for index, kind in enumerate(order)}
    return sorted(origins, key=lambda origin: position.get(origin.kind, len(order)))
