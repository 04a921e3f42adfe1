"""Plan files and unit CSVs that used to end in a traceback or be taken wrongly: each is
rejected whole, with its line, and nothing is written."""

from __future__ import annotations

import argparse
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import directives as cli_directives
from bot.cli import plans as cli_plans
from bot.core.clock import ManualClock
from bot.core.i18n import t
from bot.services import plan_import
from bot.services.authz import Actor
from bot.services.plan_import import PlanImportError, PlanSpec
from bot.services.units import UnitImportError, import_units
from storage.models import OutboxMessage, Plan, Task, Unit
from tests.factories import make_member, make_tree

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

HEAD = 'code = "333/KH-BCĐ"\ntitle = "Ngày hội"\nevent_date = 2030-08-19\nowner = "HN"\n'
TASK = '[[tasks]]\ntitle = "Rà soát địa điểm"\ndeadline = "event-14d"\nassign = "level:commune"\n'

# name -> (file text, the (line, key) pairs expected)
BAD_PLANS: dict[str, tuple[str, list[tuple[int, str]]]] = {
    "a bare number as deadline (was: 5 seconds from now)": (
        HEAD + '[[tasks]]\ntitle = "Rà soát"\ndeadline = 5\n',
        [(5, "input.file_not_text")],
    ),
    "a number written as a deadline string": (
        HEAD + '[[tasks]]\ntitle = "Rà soát"\ndeadline = "5"\n',
        [(5, "plan_import.bad_deadline")],
    ),
    "a table as a title": (
        HEAD + "[[tasks]]\ntitle = { a = 1 }\n",
        [(5, "input.file_not_text")],
    ),
    "a number as the plan code": (
        HEAD.replace('"333/KH-BCĐ"', "333") + TASK,
        [(1, "input.file_not_text")],
    ),
    "a list as the owner": (
        HEAD.replace('owner = "HN"', 'owner = ["HN"]') + TASK,
        [(4, "input.file_not_text")],
    ),
    "a number of 5,000 digits": (
        HEAD + "extra = " + "9" * 5000 + "\n" + TASK,
        [(5, "input.file_huge_number")],
    ),
    "a NUL written as an escape": (
        HEAD + '[[tasks]]\ntitle = "Rà\\u0000soát"\ndeadline = "event-14d"\n',
        [(5, "input.file_nul")],
    ),
    "a raw NUL byte": (HEAD + 'title2 = "a\x00b"\n', [(5, "plan_import.bad_toml")]),
    "an event date in year 1 (overflowed event-14d)": (
        HEAD.replace("2030-08-19", "0001-01-01") + TASK,
        [(3, "input.file_event_date_range")],
    ),
    "an event date in year 9999": (
        HEAD.replace("2030-08-19", "9999-12-31") + TASK.replace("event-14d", "event+2w"),
        [(3, "input.file_event_date_range")],
    ),
    "an event date as a number": (
        HEAD.replace("2030-08-19", "20300819") + TASK,
        [(3, "plan_import.bad_event_date")],
    ),
    "reminders as a number": (HEAD + "reminders = 5\n" + TASK, [(5, "input.file_not_table")]),
    "tasks as a table": (HEAD + '[tasks]\ntitle = "x"\n', [(5, "plan_import.no_tasks")]),
    "a task that is not a table": (HEAD + "tasks = [1]\n", [(5, "plan_import.no_tasks")]),
    "a deadline of 99999999999 days": (
        HEAD + TASK.replace("event-14d", "99999999999d"),
        [(5, "plan_import.bad_deadline")],
    ),
    "a deadline in year 9999": (
        HEAD + TASK.replace("event-14d", "9999-12-31T23:59:59-12:00"),
        [(5, "plan_import.bad_deadline")],
    ),
    "an unknown top-level field": (HEAD + "ownr = 1\n" + TASK, [(5, "plan_import.unknown_fields")]),
    "bytes that are not UTF-8": (HEAD + TASK + "\udcff", [(9, "units_import.not_utf8")]),
}


async def _setup(session: AsyncSession, clock: ManualClock) -> None:
    await make_tree(session, clock)
    await make_member(session, clock, "HN-BD-PX")


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


async def _reject(session: AsyncSession, clock: ManualClock, name: str, data: bytes) -> list:
    with pytest.raises(PlanImportError) as caught:
        await _import(session, clock, name, data, PlanSpec())
    return [(e.line, e.key) for e in caught.value.errors]


async def _import(
    session: AsyncSession, clock: ManualClock, name: str, data: bytes, options: PlanSpec
) -> plan_import.Imported:
    spec = plan_import.parse_plan_file(name, data, options)  # rejects what it can by itself
    return await plan_import.import_plan(session, clock, spec, TZ)


@pytest.mark.parametrize("case", list(BAD_PLANS))
async def test_a_bad_plan_file_is_rejected_whole_with_its_line(
    session: AsyncSession, clock: ManualClock, case: str
) -> None:
    await _setup(session, clock)
    text, expected = BAD_PLANS[case]
    errors = await _reject(session, clock, "plan.toml", _encoded(text))
    assert errors == expected
    for _, key in errors:  # each has a message in both languages, without a traceback
        assert not t(
            "vi", key, field="x", fields="x", value="x", detail="x", low=1, high=2
        ).startswith(key)
    for model in (Plan, Task, OutboxMessage):
        assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_the_same_files_are_taken_when_corrected(
    session: AsyncSession, clock: ManualClock
) -> None:
    await _setup(session, clock)
    spec = plan_import.parse_plan_file("plan.toml", (HEAD + TASK).encode(), PlanSpec())
    done = await plan_import.import_plan(session, clock, spec, TZ)
    assert (done.tasks, done.assignments) == (1, 2)  # the two communes of Hà Nội


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"title,deadline,assign\nA,event-14d,subtree\nB\x00,event,subtree\n",
            [(3, "input.file_nul")],
        ),
        (b'title,deadline,assign\n"' + b"x" * 200_000 + b'",event,subtree\n', "input.file_bad_csv"),
        (b"title,deadline,assign\nA,5,subtree\n", [(2, "plan_import.bad_deadline")]),
    ],
)
async def test_a_bad_plan_csv_is_rejected_whole(
    session: AsyncSession, clock: ManualClock, data: bytes, expected: object
) -> None:
    await _setup(session, clock)
    options = PlanSpec("KH-1", "Kế hoạch", date(2030, 8, 19), "HN")
    with pytest.raises(PlanImportError) as caught:
        await _import(session, clock, "plan.csv", data, options)
    errors = [(e.line, e.key) for e in caught.value.errors]
    if isinstance(expected, str):
        assert [key for _, key in errors] == [expected]
    else:
        assert errors == expected
    assert await session.scalar(select(func.count()).select_from(Plan)) == 0


async def test_a_units_csv_with_a_nul_byte_is_rejected_with_its_line(
    session: AsyncSession, clock: ManualClock
) -> None:
    data = "code,name,level,parent_code\nBCA,Bộ Công an,ministry,\nHN,Hà\x00Nội,province,BCA\n"

    with pytest.raises(UnitImportError) as caught:
        await import_units(session, clock, Actor.system(), data.encode())
    assert [(e.line, e.key) for e in caught.value.errors] == [(3, "input.file_nul")]
    assert await session.scalar(select(func.count()).select_from(Unit)) == 0


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "١٩/٠٨/٢٠٢٧", "2030-02-30", "x"])
def test_the_event_date_option_is_bounded(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        cli_plans.event_date(text)
    assert cli_plans.event_date("2030-08-19") == date(2030, 8, 19)


@pytest.mark.parametrize("ref", ["²", "٥٠", "0", "-1", "9" * 5000, "@", "@\u200b", str(2**53)])
def test_a_sender_reference_that_names_no_one_is_refused_before_any_lookup(ref: str) -> None:
    assert not cli_directives.is_member_ref(ref)
    assert cli_directives.is_member_ref("@hoa")
    assert cli_directives.is_member_ref("12")
