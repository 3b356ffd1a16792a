"""The ``modelpm`` command: a thin typer layer over :mod:`modelpm.api`.

:mod:`~modelpm.cli.main` builds the app from the command modules
(:mod:`~modelpm.cli.project_cmds`, :mod:`~modelpm.cli.edit_cmds`,
:mod:`~modelpm.cli.store_cmds`); :mod:`~modelpm.cli.common` holds the consoles,
the shared options and the one fatal path (``error:``/``hint:`` and the exit
code); :mod:`~modelpm.cli.progress` draws transfers. Only this package imports
typer and rich, and only :mod:`modelpm.entry` imports it. This file imports
nothing, so the entry point can read :mod:`~modelpm.cli.messages` without
loading typer.
"""
