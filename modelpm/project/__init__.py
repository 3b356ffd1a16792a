"""A project: its files on disk, what sync placed there, and the one session that changes it.

:mod:`~modelpm.project.layout` finds a project and names its files,
:mod:`~modelpm.project.state` records what sync placed, and
:mod:`~modelpm.project.session` is how every command that changes a project
reads and writes it: under the project lock, each file read once and written
at most once.
"""
