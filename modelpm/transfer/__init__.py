"""The transfer engine: bytes of locked files from untrusted origins into the store.

It knows no hub. An :class:`~modelpm.transfer.origin.Origin` tells it where a
file's bytes are, which headers a URL gets, and what an answer means; the
engine does the rest the same way for every origin: ranged, multi-connection,
resumable fetches (:mod:`~modelpm.transfer.attempt`), retries on an injected
clock (:mod:`~modelpm.transfer.retry`), hashing every byte in order
(:mod:`~modelpm.transfer.hashfront`) and committing to the store only what
matches the lock (:mod:`~modelpm.transfer.engine`).
"""
