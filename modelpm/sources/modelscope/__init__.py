"""ModelScope (modelscope.cn, or any endpoint speaking its ``/api/v1``), in plain HTTP.

:mod:`~modelpm.sources.modelscope.source` is the :class:`~modelpm.sources.base.Source`;
:mod:`~modelpm.sources.modelscope.api` makes its requests and unwraps the envelope;
:mod:`~modelpm.sources.modelscope.listing` makes a listing complete and validates it;
:mod:`~modelpm.sources.modelscope.errors` maps every answer to a modelpm error;
:mod:`~modelpm.sources.modelscope.token` finds the token as the official client does.
The official ``modelscope`` package is never imported (it is a test extra, for the
conformance tests of the test hub). Protocol facts, with sources:
``shared/modelscope-protocol.md``.
"""
