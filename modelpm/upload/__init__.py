"""Uploading a folder to a hub: what goes up (``local``), the diff against the branch
(``plan``, pure), and the interface of a hub that takes pushes (``target``).

The hub side lives with each source (``modelpm.sources.hf.publish``); the command
that ties them together is :mod:`modelpm.workflow.publishing`.
"""
