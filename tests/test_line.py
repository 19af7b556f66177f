"""LINE's limits are enforced before sending: what LINE would refuse is split or shortened."""
from __future__ import annotations

from bot.line import LineClient, fit_to_limits
from tests import events


def qr(label: str, text: str = "x") -> dict:
    return {"type": "action", "action": {"type": "message", "label": label, "text": text}}


def test_long_text_is_split_into_parts_line_accepts():
    text = ("ย่อหน้า " * 1000 + "\n\n") * 2
    out = fit_to_limits([{"type": "text", "text": text}])
    assert len(out) >= 2 and all(len(m["text"]) <= 5000 for m in out)
    assert "".join(m["text"] for m in out).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_more_than_five_messages_fit_in_five_without_losing_text():
    msgs = [{"type": "text", "text": f"ข้อความ {i}"} for i in range(8)]
    out = fit_to_limits(msgs)
    assert len(out) == 5
    assert all(f"ข้อความ {i}" in " ".join(m["text"] for m in out) for i in range(8))


def test_quick_replies_are_capped_and_labels_shortened_and_moved_to_the_last_message():
    items = [qr(f"หัวข้อที่ยาวมากเกินยี่สิบตัวอักษร {i}") for i in range(20)]
    items.append({"type": "action", "action": {"type": "postback", "label": "x", "data": "a" * 301}})
    out = fit_to_limits([{"type": "text", "text": "ก" * 6000, "quickReply": {"items": items}}])
    assert "quickReply" not in out[0]
    q = out[-1]["quickReply"]["items"]
    assert len(q) == 13 and all(len(i["action"]["label"]) <= 20 for i in q)


def test_the_fake_line_api_accepts_what_fit_to_limits_makes(fake_line):
    client = LineClient(fake_line.url, events.TOKEN)
    items = [qr("ป้ายที่ยาวเกินยี่สิบตัวอักษรแน่นอน") for _ in range(15)]
    msgs = [{"type": "text", "text": "ก" * 12000}] + [{"type": "text", "text": "ข"}] * 6
    msgs[-1] = {**msgs[-1], "quickReply": {"items": items}}
    result = client.reply("token-1", msgs)
    assert result.ok, result
    [reply] = fake_line.replies()
    assert len(reply["messages"]) == 5


def test_emoji_count_twice_as_line_counts_them_and_the_fake_accepts_the_fitted_messages(fake_line):
    # LINE counts UTF-16 units: 🌏 is two, so 20 code points of emoji would be a refused label
    client = LineClient(fake_line.url, events.TOKEN)
    label = "🌏🔥" * 10
    text = ("ลดฝุ่น 🌏🔥 " * 400 + "\n") * 3
    msgs = [{"type": "text", "text": text, "quickReply": {"items": [qr(label)]}}]
    result = client.reply("token-2", msgs)
    assert result.ok, result
    [reply] = fake_line.replies()
    sent = "".join(m["text"] for m in reply["messages"])
    assert sent.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")  # nothing lost
    fitted = reply["messages"][-1]["quickReply"]["items"][0]["action"]["label"]
    assert fitted.startswith("🌏🔥") and len(fitted.encode("utf-16-le")) // 2 <= 20


def test_errors_carry_lines_request_id(fake_line):
    client = LineClient(fake_line.url, "wrong-token")
    result = client.reply("token-2", [{"type": "text", "text": "สวัสดี"}])
    assert result.status == 401 and result.request_id


def test_a_reply_that_waited_past_its_tokens_life_is_not_sent(fake_line, monkeypatch):
    import bot.line

    monkeypatch.setattr(bot.line, "REPLY_TOKEN_LIFETIME", -1.0)
    client = LineClient(fake_line.url, events.TOKEN)
    client.reply_later("stale-token", [{"type": "text", "text": "สวัสดี"}])
    client.flush()
    assert fake_line.calls_to("reply") == []
