"""Client-side pacing: per-chat slots (groups 20 a minute) and the flood-ban gate."""

import time

from bot.delivery.pacing import ChatSpacing, Pacer


def test_private_chats_get_one_slot_per_interval() -> None:
    spacing = ChatSpacing(private_interval=1.05, group_per_minute=20)
    first = spacing.reserve(42)
    second = spacing.reserve(42)
    assert round(second - first, 6) == 1.05
    assert spacing.reserve(43) - first < 0.01, "other chats are not held up"


def test_groups_get_twenty_a_minute() -> None:
    spacing = ChatSpacing(private_interval=1.05, group_per_minute=20)
    slots = [spacing.reserve(-1001) for _ in range(21)]
    assert round(slots[-1] - slots[0], 6) == 60.0


async def test_acquire_paces_at_the_rate_after_the_burst() -> None:
    pacer = Pacer(rate=50, burst=2)
    started = time.monotonic()
    for _ in range(7):
        await pacer.acquire()
    elapsed = time.monotonic() - started
    assert elapsed >= 5 / 50 * 0.9  # five tokens had to be waited for


async def test_ban_blocks_until_it_ends_and_late_429s_do_not_extend_it() -> None:
    pacer = Pacer(rate=1000, burst=5)
    pacer.ban(0.2)
    first_end = pacer.banned_until
    pacer.ban(0.9)  # a request already on its way when the ban began: same ban, rounded up
    assert pacer.banned_until == first_end
    assert pacer.bans == 2
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started >= 0.19
    pacer.ban(2.0)  # a new, longer ban does extend it
    assert pacer.banned_until > first_end + 1.5
