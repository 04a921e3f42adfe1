"""How a roll-up page reads on a phone: its heading, one line per child unit, the people at
the bottom level, and its buttons (numbered to go down, ⬅️ ➡️ between pages, ⬆️ back up)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.context import FieldbotContext
from bot.core import callbacks
from bot.core.callbacks import RollupView
from bot.core.i18n import t
from bot.core.timefmt import local, until
from bot.services.directive_text import urgency_mark
from bot.services.members import MemberStatus
from bot.services.notify import Button
from bot.services.rollups import (
    DIRECTIVE,
    PAGE,
    TASK,
    Directive,
    Line,
    MemberActivity,
    Page,
)
from handlers.common import split_text

ROW = 3  # buttons in a row: more do not fit a phone's width
NAME = 22  # a unit's name on a button
MEMBERS = 25  # people listed at the bottom level
EXCERPT = 60
LISTED = 10  # directives in /directives


def _pct(done: int, of: int) -> int:
    """Whole percent, rounded down — but something done never reads 0 %."""
    if not of:
        return 100
    return max((100 * done) // of, 1 if done else 0)


def _icon(line: Line) -> str:
    if line.duties and line.done == line.duties:
        return "🟢"
    return "🔴" if line.rate < 0.5 or line.blocked or line.late else "🟡"


def _short(name: str, size: int = NAME) -> str:
    name = name.removeprefix("Công an ").strip() or name
    return name if len(name) <= size else name[: size - 1].rstrip() + "…"


def excerpt(text: str, size: int = EXCERPT) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) <= size:
        return first
    cut = first[:size].rsplit(" ", 1)[0]  # never mid-word
    return (cut or first[:size]).rstrip(" ,.;:") + "…"


def named(directive: Directive) -> str:
    """A directive in a list: its số hiệu, if it has one, and its first words."""
    number = f"{directive.document_number}: " if directive.document_number else ""
    return number + excerpt(directive.text)


def _heading(lang: str, page: Page, now: datetime, context: FieldbotContext) -> list[str]:
    tz = context.runtime.config.tz
    total = page.total
    left = ""
    if page.task is not None:
        task = page.task
        if task.closed_at is None and total.done < total.duties:
            left = t(lang, "span.suffix", left=until(lang, task.deadline, now))
        code = page.plan.code if page.plan else ""
        rows = [
            t(
                lang,
                "rollup.task_heading",
                id=task.id,
                title=task.title,
                plan=code,
                deadline=local(task.deadline, tz),
                left=left,
            )
        ]
    elif page.directive is not None:
        directive = page.directive
        if total.done < total.units:
            left = t(lang, "span.suffix", left=until(lang, directive.ack_by, now))
        rows = [
            t(
                lang,
                "rollup.directive_heading",
                id=directive.id,
                mark=urgency_mark(lang, directive.urgency),
                text=named(directive),
                deadline=local(directive.ack_by, tz),
                left=left,
            )
        ]
    elif page.plan is not None:
        rows = [
            t(
                lang,
                "rollup.plan_heading",
                code=page.plan.code,
                title=page.plan.title,
                date=page.plan.event_date.strftime("%d/%m/%Y"),
            )
        ]
    else:
        rows = [t(lang, "rollup.all_heading")]
    rows.append(t(lang, "rollup.scope", unit=page.at.name))
    rows.append(_totals(lang, page))
    if page.task is not None and page.task.closed_at is not None:
        rows.append(t(lang, "rollup.closed", when=local(page.task.closed_at, tz)))
    return rows


def _totals(lang: str, page: Page) -> str:
    """The whole part's counts: what is done, then only the states some unit is in."""
    total = page.total
    rate = _pct(total.done, total.duties)
    if page.kind == DIRECTIVE:
        head = t(lang, "rollup.directive_total", done=total.done, units=total.units, rate=rate)
        parts = [("rollup.pending", total.units - total.done)]
    else:
        key = "rollup.task_total" if page.kind == TASK else "rollup.tasks_total"
        head = t(lang, key, done=total.done, duties=total.duties, units=total.units, rate=rate)
        parts = [
            ("rollup.in_progress", total.in_progress),
            ("rollup.blocked", total.blocked),
            ("rollup.not_started", total.not_started),
        ]
    states = [t(lang, key, count=count) for key, count in parts if count]
    extra = [
        t(lang, key, count=count)
        for key, count in (
            ("rollup.late", total.late),
            ("rollup.returned", total.returned),
            ("rollup.after_deadline", total.after_deadline),
            ("rollup.unstaffed", total.unstaffed),
        )
        if count
    ]
    return "\n".join([" · ".join([head, *states]), *extra])


def _line(lang: str, n: int, line: Line, kind: str) -> str:
    if line.single:
        return _unit_line(lang, n, line, kind)
    marks = "".join(
        t(lang, key, count=count)
        for key, count in (
            ("rollup.mark_blocked", line.blocked),
            ("rollup.mark_late", line.late),
            ("rollup.mark_unstaffed", line.unstaffed),
        )
        if count
    )
    name = line.unit.name
    if kind == DIRECTIVE:
        return t(
            lang,
            "rollup.directive_line",
            n=n,
            icon=_icon(line),
            name=name,
            done=line.done,
            units=line.units,
            marks=marks,
        )
    return t(
        lang,
        "rollup.task_line",
        n=n,
        icon=_icon(line),
        name=name,
        done=line.done,
        duties=line.duties,
        rate=_pct(line.done, line.duties),
        marks=marks,
    )


def _unit_line(lang: str, n: int, line: Line, kind: str) -> str:
    """A unit's own state where it is one unit with one duty (communes under a district)."""
    # A report sent back keeps its true state: "done" by state, but not counted as done.
    done_by_state = line.done or not (line.blocked or line.in_progress or line.not_started)
    if kind == DIRECTIVE:
        state = "rollup.confirmed" if line.done else "rollup.not_confirmed"
    elif line.blocked:
        state = "report.state_blocked"
    elif line.in_progress:
        state = "report.state_in_progress"
    elif done_by_state:
        state = "report.state_done"
    else:
        state = "report.state_not_started"
    text = t(lang, state)
    if kind != DIRECTIVE and (line.in_progress or line.blocked or line.returned):
        text += f" {line.progress}%"
    marks = "".join(
        t(lang, key)
        for key, on in (
            ("rollup.unit_returned", line.returned),
            ("rollup.unit_late", line.late),
            ("rollup.unit_unstaffed", line.unstaffed),
        )
        if on
    )
    return t(
        lang,
        "rollup.unit_line",
        n=n,
        icon=_icon(line),
        name=line.unit.name,
        state=text,
        marks=marks,
    )


def _members(lang: str, people: Sequence[MemberActivity], context: FieldbotContext) -> list[str]:
    active = [p for p in people if p.status == MemberStatus.ACTIVE]
    if not active:
        return [t(lang, "rollup.members_none")]
    tz = context.runtime.config.tz
    rows = [t(lang, "rollup.members_header", count=len(people))]
    for person in people[:MEMBERS]:
        if person.status == MemberStatus.PENDING:
            activity = t(lang, "rollup.member_pending")
        elif person.unreachable:
            activity = t(lang, "rollup.member_unreachable")
        elif person.last_active is not None:
            activity = t(lang, "rollup.member_active", when=local(person.last_active, tz))
        else:
            activity = t(lang, "rollup.member_never")
        role = t(lang, f"roles.{person.role}")
        rows.append(t(lang, "rollup.member_line", name=person.name, role=role, activity=activity))
    if len(people) > MEMBERS:
        rows.append(t(lang, "rollup.members_more", count=len(people) - MEMBERS))
    return rows


def page_text(
    lang: str, page: Page, now: datetime, context: FieldbotContext, notes: Sequence[str] = ()
) -> str:
    rows = _heading(lang, page, now, context)
    rows[1:1] = notes
    if page.lines:
        rows += ["", t(lang, "rollup.by_unit", page=page.page + 1, pages=page.pages)]
        start = page.page * PAGE
        rows += [_line(lang, start + i + 1, line, page.kind) for i, line in enumerate(page.lines)]
        rows += ["", t(lang, "rollup.hint")]
    if page.members is not None:
        rows += ["", *_members(lang, page.members, context)]
    return split_text("\n".join(rows))[0]


def page_buttons(lang: str, page: Page, extra: Sequence[Sequence[Button]]) -> list[list[Button]]:
    def view(unit_id: int, number: int = 0) -> str:
        return callbacks.encode(RollupView(page.kind, page.subject_id, unit_id, number))

    start = page.page * PAGE
    opens = [
        Button(f"{start + i + 1}. {_short(line.unit.name)}", view(line.unit.id))
        for i, line in enumerate(page.lines)
    ]
    rows = [opens[i : i + ROW] for i in range(0, len(opens), ROW)]
    nav = []
    if page.page > 0:
        nav.append(Button(t(lang, "rollup.prev"), view(page.at.id, page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(Button(t(lang, "rollup.next"), view(page.at.id, page.page + 1)))
    if page.up is not None:
        nav.append(Button(t(lang, "rollup.up", name=_short(page.up.name, 16)), view(page.up.id)))
    if nav:
        rows.append(nav)
    refresh = Button(t(lang, "view.refresh_button"), view(page.at.id, page.page))
    rows.append([refresh, *(b for row in extra for b in row)][:ROW])
    return rows
