"""`flask chat`: the terminal conversation runs on the same core and database."""
from __future__ import annotations

from sqlalchemy import select

from bot.store.models import User


def test_terminal_chat_answers_a_thai_question_and_offers_numbered_choices(runner, app):
    result = runner.invoke(args=["chat"], input="ภาวะโลกร้อนคืออะไร\n/quit\n")
    assert result.exit_code == 0, result.output
    answer = result.output.split("คุณ: ")[1]  # what the bot said after the first question
    assert "บอท:" in answer and "โลก" in answer and "[1]" in answer
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User).where(User.line_user_id.like("Uterminal%"))) is not None


def test_picking_a_numbered_quick_reply_sends_it(runner):
    result = runner.invoke(args=["chat"], input="1\n/quit\n")
    assert result.exit_code == 0, result.output
    # The welcome's first quick reply was sent: the bot answered a second time.
    assert result.output.count("บอท:") >= 3


def test_end_of_input_ends_the_chat_cleanly(runner):
    result = runner.invoke(args=["chat"], input="")
    assert result.exit_code == 0
