"""`--shard K/N`: parsing, the scheduler environments, and the deterministic split of the work."""

from __future__ import annotations

import pytest

from framepred.data.sharding import Shard, assign, contiguous_range, parse_shard, select
from framepred.errors import UsageError


def test_explicit_k_of_n() -> None:
    assert parse_shard("3/8", {}) == Shard(3, 8)
    assert parse_shard(" 0/1 ", {}) == Shard(0, 1)
    assert parse_shard(None, {}) is None and parse_shard("", {}) is None
    assert Shard(3, 8).label == "0003-of-0008" and str(Shard(3, 8)) == "3/8"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8/8", "need 0 <= K < N"),
        ("1/0", "need 0 <= K < N"),
        ("3", "expected K/N"),
        ("a/b", "expected K/N"),
        ("-1/4", "expected K/N"),
    ],
)
def test_bad_shards_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_shard(text, {})


def test_auto_from_a_slurm_array() -> None:
    # sbatch --array=0-7
    assert parse_shard("auto", {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8"}) == Shard(5, 8)
    # sbatch --array=1-8: counted from the array's first index
    env = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"}
    assert parse_shard("auto", env) == Shard(0, 8)
    # sbatch --array=10-40:10 (4 tasks, step 10)
    env = {"SLURM_ARRAY_TASK_ID": "30", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_STEP": "10",
           "SLURM_ARRAY_TASK_COUNT": "4"}  # fmt: skip
    assert parse_shard("auto", env) == Shard(2, 4)
    # auto/N: the array index as it is, so a resubmitted part of the array (--array=3,7) keeps it.
    env = {"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_COUNT": "2"}
    assert parse_shard("auto/16", env) == Shard(7, 16)
    with pytest.raises(UsageError, match="need 0 <= K < N"):
        parse_shard("auto/4", {"SLURM_ARRAY_TASK_ID": "4"})
    env = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2",
           "SLURM_ARRAY_TASK_COUNT": "4"}  # fmt: skip
    assert parse_shard("auto", env) == Shard(1, 4)
    env["SLURM_ARRAY_TASK_ID"] = "4"  # --array=1-7:2 never gives 4
    with pytest.raises(UsageError, match="not on the array's range"):
        parse_shard("auto", env)
    with pytest.raises(UsageError, match="is not an integer"):
        parse_shard("auto", {"SLURM_ARRAY_TASK_ID": "x"})


def test_auto_from_a_kubernetes_indexed_job() -> None:
    assert parse_shard("auto/12", {"JOB_COMPLETION_INDEX": "11"}) == Shard(11, 12)
    with pytest.raises(UsageError, match="write --shard auto/N with N the Job's completions"):
        parse_shard("auto", {"JOB_COMPLETION_INDEX": "2"})
    with pytest.raises(UsageError, match="need 0 <= K < N"):
        parse_shard("auto/4", {"JOB_COMPLETION_INDEX": "4"})


def test_auto_outside_a_job_array() -> None:
    with pytest.raises(UsageError, match="neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX"):
        parse_shard("auto", {"HOME": "/root"})


def test_assign_covers_every_item_once_and_balances_the_work() -> None:
    weights = [100, 1, 1, 1, 50, 50, 3, 2, 90, 7]
    for count in (1, 2, 3, 7, 12):
        owners = assign(weights, count)
        assert len(owners) == len(weights) and set(owners) <= set(range(count))
        assert owners == assign(list(weights), count)  # a pure function of the inputs
        shares = [
            [i for i in range(len(weights)) if select(Shard(k, count), weights)[i]] for k in range(count)
        ]
        assert sorted(i for share in shares for i in share) == list(range(len(weights)))
    loads = [0] * 3
    for weight, owner in zip(weights, assign(weights, 3)):
        loads[owner] += weight
    assert max(loads) - min(loads) <= 7  # 305 in all: about 102 each, not 100 + 90 on one task


def test_equal_work_goes_round_robin_and_contiguous_ranges_tile() -> None:
    assert assign([1.0] * 7, 3) == [0, 1, 2, 0, 1, 2, 0]
    assert select(None, [1, 2]) == [True, True]
    ranges = [contiguous_range(Shard(k, 7), 20) for k in range(7)]
    assert [i for r in ranges for i in r] == list(range(20))
    assert contiguous_range(None, 5) == range(5)
    assert [len(contiguous_range(Shard(k, 7), 3)) for k in range(7)] == [0, 0, 1, 0, 1, 0, 1]
