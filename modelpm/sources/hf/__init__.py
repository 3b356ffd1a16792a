"""The Hugging Face Hub (and any endpoint speaking its API): the only code importing
``huggingface_hub`` and ``httpx2``.

:mod:`~modelpm.sources.hf.source` is the :class:`~modelpm.sources.base.Source`;
:mod:`~modelpm.sources.hf.errors` maps every error the Hub or its client can
raise; :mod:`~modelpm.sources.hf.token` finds the token and keeps it on its
own origin; :mod:`~modelpm.sources.hf.listing` validates what a listing says.
Protocol facts, with sources: ``shared/hub-protocol.md``.
"""
