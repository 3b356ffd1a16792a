"""What a sync has to do, decided from local facts alone (pure: no I/O of its own).

:mod:`~modelpm.plan.tasks` turns a lock into the files each destination
wants; :mod:`~modelpm.plan.planner` sorts them into keep / check / place /
fetch and finds what to remove.
"""
