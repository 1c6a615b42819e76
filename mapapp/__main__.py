"""``python -m mapapp`` runs the command line."""

from .cli import main

main()
