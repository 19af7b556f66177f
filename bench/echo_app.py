"""The peer for bench/webhook.py: a text echo written the way line-bot-sdk's flask-kitchensink
example (v3) writes one.

Signature checked and events parsed by the SDK's WebhookHandler (full pydantic models), an
ApiClient built per request, and the reply sent with MessagingApi.reply_message inside the
request. It stores nothing and understands nothing. Unlike the example it does not exit at
import when a setting is missing (the benchmark always sets them), and it does not log the
request body.

Settings: LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN, and LINE_API_BASE_URL (the fake LINE
API the benchmark starts; the same one the bot replies to).
"""
from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, TextMessageContent

app = Flask(__name__)

configuration = Configuration(access_token=os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", ""),
                              host=os.environ.get("LINE_API_BASE_URL") or None)
handler = WebhookHandler(os.environ.get("LINE_CHANNEL_SECRET", ""))


@app.post("/callback")
def callback() -> str:
    signature = request.headers["X-Line-Signature"]
    body = request.get_data(as_text=True)
    try:
        handler.handle(body, signature)
    except InvalidSignatureError:
        abort(400)
    return "OK"


@handler.add(MessageEvent, message=TextMessageContent)
def handle_text_message(event: MessageEvent) -> None:
    with ApiClient(configuration) as api_client:
        line_bot_api = MessagingApi(api_client)
        line_bot_api.reply_message(
            ReplyMessageRequest(reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)]))
