"""The chaos engine: one home for the long runs of `bench/chaos.py` and the short ones of
tests/reliability/test_chaos.py. services.py starts the real processes and breaks them,
load.py is the sustained load, engine.py injects the faults and waits for recovery,
evidence.py counts what went wrong, report.py prints it; recorder.py records every message
for the replay test."""
