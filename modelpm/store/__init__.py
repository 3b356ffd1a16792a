"""Where verified bytes live: the local content-addressed store and its upkeep.

:mod:`~modelpm.store.local` is the store on this machine (layout and invariant
in its docstring); :mod:`~modelpm.store.maintenance` re-hashes it and collects
what no project uses. A remote store on object storage comes next, as one more
untrusted origin.
"""
