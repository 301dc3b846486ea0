"""`python -m scheduler`: the Procfile's scheduler process."""

import sys

if __name__ == "__main__":
    print("reviewq scheduler: not built yet (see the scheduler issue); exiting.", file=sys.stderr)
    sys.exit(0)
