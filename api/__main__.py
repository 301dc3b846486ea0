"""`python -m api`: the Procfile's web process."""

import sys

if __name__ == "__main__":
    print(
        "reviewq web: the HTTP API is not built yet (see the HTTP API issue); exiting.",
        file=sys.stderr,
    )
    sys.exit(0)
