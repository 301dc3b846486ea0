"""bench/cpu_split.py counts each process's CPU between two snapshots once."""

from __future__ import annotations

from cpu_split import _kind, cpu_split


def test_a_kernel_worker_renamed_between_snapshots_counts_only_what_it_spent_between() -> None:
    kinds = {_kind(7, "kworker/1:0-events"), _kind(7, "kworker/1:0-virtio_vsock")}
    assert kinds == {"kworker"}
    before = {7: ("kworker", 40.0), 8: ("postgres", 3.0)}
    after = {7: ("kworker", 40.2), 8: ("postgres", 4.5), 9: ("postgres", 0.3)}
    assert cpu_split(before, after) == {"postgres": 1.8, "kworker": 0.2}


def test_a_pid_reused_by_another_kind_of_process_counts_in_full() -> None:
    assert cpu_split({5: ("redis-server", 9.0)}, {5: ("postgres", 0.5)}) == {"postgres": 0.5}
