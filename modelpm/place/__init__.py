"""Placing verified store objects into destinations, and carrying out a sync plan.

:mod:`~modelpm.place.links` puts one object's bytes at one path atomically,
:mod:`~modelpm.place.placer` places, checks and removes the files of one
project with the state that records them, :mod:`~modelpm.place.apply` carries
a whole :class:`~modelpm.plan.planner.SyncPlan` out, fetching through the
transfer engine what the store lacks.
"""
