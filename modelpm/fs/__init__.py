"""File-system primitives that keep the previous good state on failure.

:mod:`~modelpm.fs.errors` turns OS errors a user can cause into one clear line,
:mod:`~modelpm.fs.atomic` writes files whole or not at all, and
:mod:`~modelpm.fs.cleanup` removes only what a killed run of modelpm left.
"""
