"""What officers type under a report as they would say it: a state word is a new report, not a
note on the old one; a note that begins like a state is kept, and the state is offered."""

from __future__ import annotations

from tests.e2e.conftest import BotEnv
from tests.e2e.test_tasks import _report, _setup, _task


async def test_xong_typed_under_a_report_reports_done(env: BotEnv) -> None:
    district, an, _, _ = await _setup(env)
    await _task(district, "Rà soát địa điểm")
    saved = await _report(an, await an.next_message(), "Đang thực hiện", "50%")
    assert "Đang thực hiện, 50%" in saved
    done = await an.ask("xong")
    assert "Hoàn thành, 100%" in done.body  # a new report, not a note "xong" at 50 %
    listing = await an.ask("/tasks")
    assert "✅ #1" in listing.body

    again = await an.ask("Hoàn thành phần hội trường, còn thiếu âm thanh")
    assert "Đã thêm ghi chú" in again.body  # a sentence stays a note …
    assert [b["text"] for b in again.buttons()] == ["✅ Hoàn thành"]  # … and the state is offered
    refused = await an.ask("đang 150")
    assert "từ 0 đến 100" in refused.body
    back = await an.ask("Đang 80%")  # going back from done: the reason is asked, as with taps
    assert "Tiến độ giảm từ 100% xuống 80%" in back.body
