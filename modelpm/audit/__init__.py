"""What could run code when a model loads, found, cached per store object, and judged.

:mod:`~modelpm.audit.code` says which locked files can run code (pure: paths and
``auto_map`` entries); :mod:`~modelpm.audit.scanner` lists a pickle's imports with
picklescan; :mod:`~modelpm.audit.records` keeps each object's result in the store,
keyed by its hash, so every object is scanned once; :mod:`~modelpm.audit.policy`
decides what a model may place.
"""
