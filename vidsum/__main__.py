"""`python -m vidsum`: the same as the `vidsum` command."""

from vidsum.cli import main

main()
