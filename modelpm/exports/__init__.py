"""Locked models in layouts other tools read: :mod:`~modelpm.exports.hf_cache` (the official
Hugging Face cache, for code that loads by repo id). Every export links verified store
objects; none fetches or decides what is locked."""
