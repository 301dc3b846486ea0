"""The scheduler daemon (`python -m scheduler`): expiry, reminders, manager notices, outbox
sweeps, with exactly one active scheduler among any number of processes.

- `scheduler.jobs`: the jobs (`JOBS`, each `job(now, options) -> JobReport`).
- `tasks.batches.expiry`: the set-based expiry of overdue batches.
- `scheduler.leader`: the leader lease and the per-(job, fire time) dedupe key in Redis.
- `scheduler.daemon`: the APScheduler BlockingScheduler that runs the jobs while leading.
"""
