"""Wrong invitation codes: limited per user and for everyone together; old tries are pruned."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import OnboardingConfig
from bot.services.authz import Actor
from bot.services.onboarding import (
    Redeemed,
    TelegramIdentity,
    create_invitation,
    redeem_invitation,
)
from storage.models import RedeemAttempt, Role
from tests.factories import make_tree

WINDOW = timedelta(minutes=10)
SETTINGS = OnboardingConfig(max_attempts=3, max_attempts_overall=20, attempt_window=WINDOW)


def who(user_id: int) -> TelegramIdentity:
    return TelegramIdentity(user_id, user_id, f"Người {user_id}", None)


async def _attempts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(RedeemAttempt)) or 0)


async def test_many_users_with_one_wrong_code_each_meet_the_overall_limit(
    session: AsyncSession, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    good = await create_invitation(
        session, clock, Actor.system(), "HN-BD-PX", Role.OFFICER, ttl=timedelta(days=7)
    )
    outcomes = []
    for user_id in range(1000, 1300):  # 300 accounts, one guess each
        result = await redeem_invitation(session, clock, SETTINGS, who(user_id), "guess", "vi")
        outcomes.append(result.outcome)
        clock.advance(timedelta(milliseconds=100))
    assert outcomes.count(Redeemed.INVALID) == 20
    assert outcomes.count(Redeemed.BUSY) == 280
    assert await _attempts(session) == 20  # refused tries are not even written down

    # While the limit holds no code is checked, not even a good one; the answer says until when.
    busy = await redeem_invitation(session, clock, SETTINGS, who(5000), good.code, "vi")
    assert busy.outcome is Redeemed.BUSY
    assert busy.retry_at is not None
    first_attempt = clock.now() - timedelta(milliseconds=100) * 300
    assert busy.retry_at == first_attempt + WINDOW

    clock.advance(busy.retry_at - clock.now() + timedelta(seconds=1))
    joined = await redeem_invitation(session, clock, SETTINGS, who(5000), good.code, "vi")
    assert joined.outcome is Redeemed.PENDING


async def test_old_attempts_are_pruned_so_the_table_stays_bounded(
    session: AsyncSession, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    for round_ in range(5):
        for user_id in range(10):
            await redeem_invitation(
                session, clock, SETTINGS, who(round_ * 100 + user_id), "nope", "vi"
            )
        clock.advance(WINDOW + timedelta(seconds=1))
    await redeem_invitation(session, clock, SETTINGS, who(9999), "nope", "vi")
    assert await _attempts(session) == 1  # only the try inside the current window is kept


async def test_the_per_user_limit_still_comes_first(
    session: AsyncSession, clock: ManualClock
) -> None:
    await make_tree(session, clock)
    for _ in range(3):
        result = await redeem_invitation(session, clock, SETTINGS, who(42), "nope", "vi")
        assert result.outcome is Redeemed.INVALID
    result = await redeem_invitation(session, clock, SETTINGS, who(42), "nope", "vi")
    assert result.outcome is Redeemed.TOO_MANY_TRIES
    other = await redeem_invitation(session, clock, SETTINGS, who(43), "nope", "vi")
    assert other.outcome is Redeemed.INVALID  # one user's limit is not everyone's


def test_the_overall_limit_is_configurable_and_bounded() -> None:
    import pytest

    from bot.core.config import ConfigError, config_from_mapping

    config = config_from_mapping({"onboarding": {"max_attempts_overall": 50}}, env={})
    assert config.onboarding.max_attempts_overall == 50
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"onboarding": {"max_attempts_overall": 0}}, env={})
    assert caught.value.key == "onboarding.max_attempts_overall"
