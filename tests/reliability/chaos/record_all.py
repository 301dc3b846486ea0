"""`dramatiq workers.broker:install tasks.actors tests.reliability.chaos.record_all`: the
worker records every message it enqueues (recorder.py)."""

from tests.reliability.chaos.recorder import install

install()
