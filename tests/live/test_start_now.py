"""Pushes send on the hub's stack: a task only for a socket whose send waits."""

from __future__ import annotations

import asyncio

import pytest

from live.eager import start_now


async def test_a_coroutine_that_never_waits_runs_to_its_end_at_once_without_a_task() -> None:
    done: list[str] = []

    async def send() -> None:
        done.append("sent")

    before = len(asyncio.all_tasks())
    assert start_now(send()) is None
    assert done == ["sent"]
    assert len(asyncio.all_tasks()) == before


async def test_a_coroutine_that_waits_is_finished_by_a_task_with_what_it_waited_for() -> None:
    ready = asyncio.get_running_loop().create_future()
    got: list[str] = []

    async def send() -> None:
        got.append(await ready)
        await asyncio.sleep(0)
        got.append("after a bare yield")

    task = start_now(send())
    assert task is not None and not task.done()
    ready.set_result("written")
    await task
    assert got == ["written", "after a bare yield"]


async def test_an_error_after_a_wait_is_the_tasks_error() -> None:
    async def send() -> None:
        await asyncio.sleep(0.001)
        raise ConnectionResetError("peer went away")

    task = start_now(send())
    assert task is not None
    with pytest.raises(ConnectionResetError):
        await task


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    stuck = asyncio.Event()
    seen: list[str] = []

    async def send() -> None:
        try:
            await stuck.wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = start_now(send())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]
