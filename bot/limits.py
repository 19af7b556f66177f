"""LINE's limits (Messaging API reference), in one place."""
from __future__ import annotations

MAX_MESSAGES = 5            # messages per reply or push
MAX_TEXT = 5000             # characters of a text message
MAX_ALT_TEXT = 1500         # characters of a Flex message's altText
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20              # quick-reply and action labels
MAX_ACTION_TEXT = 300       # a message action's text, a displayText
MAX_POSTBACK_DATA = 300
MAX_URI = 1000
MAX_CAROUSEL = 12           # bubbles in a carousel
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BYTES = 50_000
MAX_MULTICAST = 500         # user ids per multicast
MAX_CHAT_BAR = 14           # a rich menu's chatBarText
MAX_RICHMENU_AREAS = 20
MAX_RICHMENU_BYTES = 1024 * 1024
REPLY_TOKEN_LIFETIME = 50.0  # seconds; LINE's reply tokens go stale within about a minute
