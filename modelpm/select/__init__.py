"""Which of a repo's files a model takes: include/exclude patterns (weights presets next).

Pure functions of a file listing; no I/O.
"""
