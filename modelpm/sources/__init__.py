"""Where listings and bytes come from: one module or folder per hub protocol.

:mod:`~modelpm.sources.base` is the interface every source implements,
:mod:`~modelpm.sources.catalog` knows which sources exist and opens one from
the configuration; :mod:`modelpm.sources.hf` speaks the Hugging Face Hub's API.
Nothing outside a source's own folder knows its protocol.
"""
