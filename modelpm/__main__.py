"""``python -m modelpm`` runs the CLI."""

from modelpm.cli import main

main()
