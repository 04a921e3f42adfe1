import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.services.authz import Actor, NotAllowed
from bot.services.units import UnitImportError, import_units, list_units
from storage.models import MemberStatus, Role
from storage.repositories.units import UnitRepository

HEADER = "code,name,level,parent_code\n"


async def _import(session: AsyncSession, clock: ManualClock, body: str | bytes):
    data = body if isinstance(body, bytes) else (HEADER + body).encode()
    return await import_units(session, clock, Actor.system(), data)


async def _errors(session: AsyncSession, clock: ManualClock, body: str | bytes):
    with pytest.raises(UnitImportError) as caught:
        await _import(session, clock, body)
    assert await UnitRepository(session).count() == 0, "a failed import must write nothing"
    return [(e.line, e.key, e.params) for e in caught.value.errors]


async def test_import_builds_the_tree_with_paths(session, clock) -> None:
    summary = await _import(session, clock, "A,Bộ,ministry,\nB,Tỉnh,province,A\nC,Xã,commune,B\n")
    assert (summary.created, summary.updated) == (3, 0)
    units = {u.code: u for u in await list_units(session)}
    assert units["C"].parent_code == "B"
    assert units["C"].path.startswith(units["B"].path)
    assert units["B"].path.startswith(units["A"].path)
    assert [units[c].depth for c in "ABC"] == [0, 1, 2]


async def test_children_may_come_before_parents(session, clock) -> None:
    await _import(session, clock, "C,Xã,commune,B\nB,Tỉnh,province,A\nA,Bộ,ministry,\n")
    units = {u.code: u for u in await list_units(session)}
    assert units["C"].path == f"/{units['A'].id}/{units['B'].id}/{units['C'].id}/"


async def test_reimport_updates_names_and_parents_without_duplicates(session, clock) -> None:
    await _import(
        session,
        clock,
        "A,Bộ,ministry,\nB,Tỉnh 1,province,A\nB2,Tỉnh 2,province,A\nC,Xã,commune,B\n",
    )
    summary = await _import(session, clock, "B,Tỉnh Một,province,A\nC,Xã,commune,B2\n")
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 0)
    units = {u.code: u for u in await list_units(session)}
    assert len(units) == 4
    assert units["B"].name == "Tỉnh Một"
    assert units["C"].parent_code == "B2"
    assert units["C"].path.startswith(units["B2"].path)
    again = await _import(session, clock, "B,Tỉnh Một,province,A\n")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


async def test_moving_a_unit_moves_its_subtree(session, clock) -> None:
    await _import(
        session,
        clock,
        "A,Bộ,ministry,\nP,Tỉnh,province,A\nQ,Tỉnh 2,province,A\n"
        "D,Huyện,district,P\nX,Xã,commune,D\n",
    )
    await _import(session, clock, "D,Huyện,district,Q\n")
    units = {u.code: u for u in await list_units(session)}
    assert units["X"].path.startswith(units["Q"].path)


async def test_unknown_parent_is_named_with_its_line(session, clock) -> None:
    errors = await _errors(session, clock, "A,Bộ,ministry,\nB,Tỉnh,province,NOPE\n")
    assert errors == [(3, "units_import.unknown_parent", {"parent": "NOPE"})]


async def test_duplicate_code_names_both_lines(session, clock) -> None:
    errors = await _errors(session, clock, "A,Bộ,ministry,\nB,Tỉnh,province,A\nB,Khác,province,A\n")
    assert errors == [(4, "units_import.duplicate_code", {"code": "B", "first": 3})]


async def test_cycle_is_reported(session, clock) -> None:
    errors = await _errors(session, clock, "A,Một,x,C\nB,Hai,x,A\nC,Ba,x,B\n")
    assert len(errors) == 1
    line, key, params = errors[0]
    assert (line, key) == (2, "units_import.cycle")
    assert set(params["codes"].split(" → ")) == {"A", "B", "C"}


async def test_self_parent_is_a_cycle(session, clock) -> None:
    errors = await _errors(session, clock, "A,Một,x,A\n")
    assert errors[0][:2] == (2, "units_import.cycle")


async def test_cycle_through_existing_units_is_caught(session, clock) -> None:
    await _import(session, clock, "A,Bộ,ministry,\nB,Tỉnh,province,A\n")
    with pytest.raises(UnitImportError) as caught:
        await _import(session, clock, "A,Bộ,ministry,B\n")
    assert caught.value.errors[0].key == "units_import.cycle"
    units = {u.code: u for u in await list_units(session)}
    assert units["A"].parent_code is None, "nothing changed"


async def test_empty_and_overlong_names(session, clock) -> None:
    errors = await _errors(session, clock, f"A,,ministry,\nB,{'x' * 201},province,\n")
    assert errors == [
        (2, "units_import.empty_name", {}),
        (3, "units_import.long_name", {"max": 200}),
    ]


async def test_every_bad_row_is_reported_at_once(session, clock) -> None:
    errors = await _errors(session, clock, "A,,x,\n,Tên,x,\nC,Tên,,\nok,Tên,x,\nD,Tên,x\n")
    assert [e[0] for e in errors] == [2, 3, 4, 6]


async def test_file_that_is_not_utf8_names_the_line(session, clock) -> None:
    data = (HEADER + "A,Bộ,ministry,\n").encode() + "B,Cà Mau,province,A\n".encode("latin-1")
    errors = await _errors(session, clock, data)
    assert errors == [(3, "units_import.not_utf8", {})]


async def test_utf8_bom_is_accepted(session, clock) -> None:
    summary = await _import(session, clock, b"\xef\xbb\xbf" + (HEADER + "A,Bộ,x,\n").encode())
    assert summary.created == 1


async def test_missing_columns_and_empty_file(session, clock) -> None:
    assert await _errors(session, clock, b"code,name\nA,B\n") == [
        (1, "units_import.missing_columns", {"columns": "level, parent_code"})
    ]
    assert await _errors(session, clock, b"") == [(1, "units_import.empty", {})]
    assert await _errors(session, clock, HEADER.encode()) == [(1, "units_import.empty", {})]


async def test_bad_code_characters(session, clock) -> None:
    errors = await _errors(session, clock, "A B,Tên,x,\n")
    assert errors == [(2, "units_import.bad_code", {"code": "A B"})]


async def test_only_admins_import(session, clock) -> None:
    coordinator = Actor(1, Role.COORDINATOR, MemberStatus.ACTIVE, "/1/", "member:1")
    with pytest.raises(NotAllowed):
        await import_units(session, clock, coordinator, (HEADER + "A,Bộ,x,\n").encode())


async def test_ten_thousand_rows(session, clock) -> None:
    rows = ["ROOT,Bộ,ministry,"]
    rows += [f"P{p},Tỉnh {p},province,ROOT" for p in range(99)]
    rows += [f"C{p}-{c},Xã {c},commune,P{p}" for p in range(99) for c in range(100)]
    summary = await _import(session, clock, "\n".join(rows) + "\n")
    assert summary.created == 10_000
    assert await UnitRepository(session).count() == 10_000
