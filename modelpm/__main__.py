"""``python -m modelpm`` runs the command, exactly as the ``modelpm`` script does."""

from modelpm.entry import main

main()
