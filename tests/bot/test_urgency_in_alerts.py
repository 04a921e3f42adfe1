"""The độ khẩn of a directive in what coordinators read about it: the escalation's header and
the daily digest's line (Thường is the absence of a mark, so it shows no level)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.config import RemindersConfig
from bot.services import digests, directives
from bot.services.directives import Target
from bot.services.reminder_text import first_words
from tests.bot.test_reminders import World

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = RemindersConfig()
DAY = timedelta(days=1)


async def _send(w: World, text: str, urgency: str, number: str | None = None) -> int:
    sent = await directives.send_directive(
        w.session,
        w.clock,
        w.district.actor,
        text=text,
        target=Target.parse("level:commune"),
        ack_by=w.clock.now() + timedelta(hours=4),
        tz=TZ,
        urgency=urgency,
        document_number=number,
    )
    return sent.directive_id


async def test_an_escalation_and_the_digest_say_hoa_toc(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    flash = await _send(w, "Rà soát lực lượng bảo vệ Ngày hội\nchi tiết…", "hoa_toc", "125/CV-BCĐ")
    normal = await _send(w, "Báo cáo danh sách khách mời", "thuong")
    await w.inbox.new()

    await w.sweep_at(clock.now() + timedelta(hours=4) + CONFIG.escalate_after)
    texts = [r.payload["text"] for r in await w.inbox.new() if r.member_id == w.district.id]
    text = "\n".join(texts)
    assert (
        f"📣 ĐƠN VỊ CHƯA XÁC NHẬN — chỉ đạo Hỏa tốc #{flash} (125/CV-BCĐ): "
        "Rà soát lực lượng bảo vệ Ngày hội\n"
    ) in text
    assert f"📣 ĐƠN VỊ CHƯA XÁC NHẬN — chỉ đạo #{normal}: Báo cáo danh sách khách mời\n" in text
    assert "Thường" not in text

    morning = datetime.combine((clock.now() + DAY).astimezone(TZ).date(), CONFIG.digest_time, TZ)
    await digests.send_digests(session, morning, CONFIG, TZ)
    (digest,) = [r.payload["text"] for r in await w.inbox.new() if r.member_id == w.district.id]
    lines = digest.splitlines()
    at = lines.index(next(x for x in lines if x.startswith("📢 Chỉ đạo chưa được xác nhận")))
    assert lines[at + 1].startswith(f"  • 🔴 Hỏa tốc #{flash} Rà soát lực lượng bảo vệ Ngày hội:")
    assert lines[at + 2].startswith(f"  • #{normal} Báo cáo danh sách khách mời:")


async def test_the_most_urgent_comes_first_in_the_digest(
    session: AsyncSession, clock: ManualClock
) -> None:
    w = World(session, clock)
    await w.build()
    normal = await _send(w, "Báo cáo danh sách khách mời", "thuong")
    clock.advance(timedelta(minutes=5))
    urgent = await _send(w, "Kiểm tra phương án phòng cháy", "khan")
    await w.inbox.new()
    morning = datetime.combine((clock.now() + DAY).astimezone(TZ).date(), CONFIG.digest_time, TZ)
    await digests.send_digests(session, morning, CONFIG, TZ)
    (digest,) = [r.payload["text"] for r in await w.inbox.new() if r.member_id == w.province.id]
    shown = [x for x in digest.splitlines() if x.startswith("  • ") and "chưa xác nhận" in x]
    assert shown[0].startswith(f"  • 🔴 Khẩn #{urgent} ")
    assert shown[1].startswith(f"  • #{normal} ")


def test_first_words_never_cut_mid_word() -> None:
    long = "Triển khai phương án bảo vệ an ninh trật tự tại các điểm tổ chức Ngày hội toàn dân"
    cut = first_words(long, 60)
    assert len(cut) <= 60
    assert cut.endswith("…")
    assert long.startswith(cut.removesuffix("…"))
    assert long[len(cut) - 1] == " "  # the word after the cut was left whole, not halved
    assert first_words("Ngắn\ndòng hai", 60) == "Ngắn"
    assert first_words("x" * 80, 10) == "x" * 9 + "…"
