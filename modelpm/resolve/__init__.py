"""Manifest + sources → lock entries: when an entry is stale, and resolving what is.

:mod:`~modelpm.resolve.staleness` compares a lock with its manifest (no I/O);
:mod:`~modelpm.resolve.resolver` asks the sources for what is new, changed or
asked to upgrade, and keeps every other pin without a request.
"""
