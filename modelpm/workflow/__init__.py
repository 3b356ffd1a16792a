"""The library's commands: each opens a project view or session and runs the core.

One module per group, as the CLI groups them: :mod:`~modelpm.workflow.locking`
(``lock``), :mod:`~modelpm.workflow.syncing` (``sync``, the no-op answer),
:mod:`~modelpm.workflow.editing` (``init``, ``add``, ``remove``),
:mod:`~modelpm.workflow.reading` (``status``, ``path``, ``verify``,
``outdated``), :mod:`~modelpm.workflow.storing` (``store …``). None prints;
each returns a typed result (:mod:`~modelpm.workflow.results`) or raises a
:class:`~modelpm.errors.ModelpmError`. :mod:`modelpm.api` is their public face.
"""
