"""``make demo``, scenes 11–13: a plan and a task in chat, reports from the field (one
blocked, one with a photo), and the steering committee's view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.emulator import Person


class Show(Protocol):
    def scene(self, name: str) -> None: ...


Expect = Callable[[bool, str], None]


async def _report(person: Person, state: str, progress: str | None) -> None:
    """The three taps: the task's button, a state, a progress."""
    task = await person.next_message()
    await person.press(task, "Báo cáo")
    card = await person.next_message()
    await person.press(card, state)
    if progress is not None:
        await person.wait_until(lambda: any(progress in b["text"] for b in card.buttons()))
        await person.press(card, progress)
    await person.wait_until(lambda: "Đã ghi báo cáo" in card.body)


async def play(show: Show, people: dict[str, Person], expect: Expect) -> None:
    bao, hung, lan = people["bao"], people["hung"], people["lan"]
    show.scene("plan")
    await bao.ask("/plan")
    await bao.ask("333/KH-BCĐ")
    await bao.ask("Ngày hội toàn dân bảo vệ an ninh Tổ quốc")
    created = await bao.ask("19/08/2030")
    expect("Đã tạo kế hoạch 333/KH-BCĐ" in created.body, "the plan is created")
    plans = await bao.ask("/task")
    await bao.press(plans, "333/KH-BCĐ")
    await bao.next_message()
    description = await bao.ask("Chuẩn bị địa điểm, hội trường tổ chức Ngày hội")
    await bao.press(description, "Bỏ qua")
    await bao.press(await bao.next_message(), "Xã/Phường")
    await bao.press(await bao.next_message(), "7 ngày")
    await bao.press(await bao.next_message(), "Giao")
    expect("Đã giao nhiệm vụ #1 cho 4 đơn vị" in (await bao.next_message()).body, "assigned")

    show.scene("reports")
    bao.read_all()
    await _report(hung, "Hoàn thành", None)
    hung.send_photo("Hội trường đã sẵn sàng")
    expect("Đã đính kèm" in (await hung.next_message()).body, "the photo joins the report")
    await _report(lan, "Gặp khó khăn", "25%")
    lan.send("Hội trường xuống cấp, chưa có kinh phí sửa chữa")
    expect("Đã thêm ghi chú" in (await lan.next_message()).body, "the note joins the report")
    alert = await bao.next_message()
    expect("GẶP KHÓ KHĂN" in alert.body, "the blocker reaches the coordinator above at once")
    more = await bao.next_message()
    expect("kinh phí" in more.body, "and so does its note")

    show.scene("task_view")
    view = await bao.ask("/task 1")
    expect("✅ 1" in view.body and "⛔ 1" in view.body, "the view counts done and blocked units")
    history = await bao.ask("/task 1 QNI-HL-BC")
    expect("1 tệp" in history.body, "the history shows the photo")
