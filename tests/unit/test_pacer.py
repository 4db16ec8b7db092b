"""The delivery pacer: never over the limit in any second, close to it over a round."""

from __future__ import annotations

import random
from collections import deque

import pytest
from bot.delivery import GROUP_SPACING, Pacer


class FakeTime:
    """A clock that sleeps instantly, waking up late by up to ``late`` seconds."""

    def __init__(self, late: float, seed: int = 1) -> None:
        self.now = 1000.0
        self.late = late
        self.random = random.Random(seed)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.random.uniform(0, self.late)


async def send_all(pacer: Pacer, time: FakeTime, chats: list[int],
                   work: float = 0.0) -> list[float]:
    sent = []
    for chat in chats:
        await pacer.wait(chat)
        sent.append(time.now)
        time.now += work  # the loop's own work between two messages
    return sent


def most_in_one_second(moments: list[float]) -> int:
    window: deque[float] = deque()
    most = 0
    for moment in moments:
        window.append(moment)
        while window[0] <= moment - 1.0:
            window.popleft()
        most = max(most, len(window))
    return most


# (below 100 a second the bucket holds a single message: late wake-ups are not made up)
@pytest.mark.parametrize(("rate", "late", "share"),
                         [(500, 0.001, 0.95), (500, 0.0, 0.96), (25, 0.002, 0.92), (1, 0.01, 0.95)])
async def test_no_second_holds_more_than_the_rate_and_late_wakeups_are_made_up(
    rate: float, late: float, share: float
) -> None:
    time = FakeTime(late)
    pacer = Pacer(rate, clock=time.clock, sleep=time.sleep)
    count = int(rate * 20) + 1
    sent = await send_all(pacer, time, list(range(1, count + 1)), work=0.1 / rate)
    assert most_in_one_second(sent) <= (0.98 * rate if rate >= 100 else rate)
    achieved = (count - 1) / (sent[-1] - sent[0])
    assert achieved >= share * rate, achieved


async def test_a_429_holds_every_send_for_exactly_retry_after() -> None:
    time = FakeTime(0.0)
    pacer = Pacer(100, clock=time.clock, sleep=time.sleep)
    await send_all(pacer, time, [1, 2, 3])
    pacer.pause(7.0)
    paused_at = time.now
    after = await send_all(pacer, time, list(range(4, 10)))
    assert after[0] == pytest.approx(paused_at + 7.0)
    # no burst saved up during the pause: spaced at the refill rate from there
    gaps = [b - a for a, b in zip(after, after[1:], strict=False)]
    assert min(gaps) == pytest.approx(1 / pacer.refill)


async def test_one_chat_is_spaced_out() -> None:
    time = FakeTime(0.0)
    pacer = Pacer(1000, clock=time.clock, sleep=time.sleep)
    person = await send_all(pacer, time, [42, 42, 42])
    group = await send_all(pacer, time, [-100, -100])
    assert [round(b - a, 6) for a, b in zip(person, person[1:], strict=False)] == [1.0, 1.0]
    assert group[1] - group[0] == pytest.approx(GROUP_SPACING)
