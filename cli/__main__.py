"""`python -m cli`: the same as the `reviewq` console script."""

from cli.app import main

main()
