"""``/report 12 đang 50 ghi chú`` read into its parts: task, state, progress and note."""

from __future__ import annotations

from functools import cache

from bot.core.i18n import t
from bot.core.parsing import ParseError, looks_like_number, parse_id, parse_percent
from bot.services.reports import TaskState

# States that carry a progress, and the figure assumed when none is typed by a unit that never
# reported (one that did keeps its progress: ``/report 12 vướng`` at 75% stays at 75%).
DEFAULT_PROGRESS = {TaskState.IN_PROGRESS: 50, TaskState.BLOCKED: 0}


class TypedError(ValueError):
    """A typed report whose task number or progress is written but cannot be read."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__(key)
        self.key, self.value = key, value[:20]


@cache
def _state_words() -> dict[str, TaskState]:
    """Every word that names a state, in every catalog (``xong``, ``hoànthành``, ``done`` …)."""
    return {
        word.casefold(): state
        for state in TaskState
        for language_code in ("vi", "en")
        for word in t(language_code, f"report.words_{state}").split(",")
    }


def spoken_state(text: str) -> tuple[TaskState, list[str]] | None:
    """The state a message begins with (``xong``, ``hoàn thành``, ``Đang 60``), and the words
    after it; None when it does not begin with one."""
    words = text.split()
    for size in (2, 1):  # "hoàn thành" as two words first
        if len(words) >= size:
            state = _state_words().get("".join(words[:size]).casefold())
            if state is not None:
                return state, words[size:]
    return None


def parse_typed(lang: str, args: list[str]) -> tuple[int, TaskState, int | None, str] | None:
    """``[#]N STATE [PROGRESS[%]] [NOTE]``; None when it is not that shape at all.

    A number where the progress goes must be a valid one (``-5`` is refused, not kept as the
    note with a guessed progress); a task number beyond any row is refused likewise. No
    progress typed is None: the report keeps the unit's progress (see ``DEFAULT_PROGRESS``).
    """
    if len(args) < 2:
        return None
    try:
        task_id = parse_id(args[0])
    except ParseError:
        if looks_like_number(args[0].removeprefix("#")):
            raise TypedError("input.bad_task_id", args[0]) from None
        return None
    state = _state_words().get(args[1].casefold())
    if state is None:
        return None
    rest = args[2:]
    progress = None
    if rest and looks_like_number(rest[0]):
        try:
            progress = parse_percent(rest[0])
        except ParseError:
            raise TypedError("input.bad_progress_typed", rest[0]) from None
        rest = rest[1:]
    return task_id, state, progress, " ".join(rest)
