"""The `reviewq` console script: `reviewq match` starts without importing the other commands.

`match` needs only the matching engine; importing every command (the store, the API, the
workers, the demo) first would cost it more than its CSV reading. Every other command goes
through `cli.app` as before.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["match"]:
        from cli.match import match_main

        match_main()
        return
    from cli.app import main as reviewq

    reviewq()
