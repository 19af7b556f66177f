"""Campaign broadcasts: audiences, messages, claims, resumable batched sending, the worker, the CLI.

The modules, in the order a campaign passes through them: audience (who), compose (what),
service (create, plan, send, the worker), claims (one sender at a time), sender (batches to
LINE), cli (`flask campaign …`). Their database side is bot/store/campaigns.py.
"""
from bot.campaigns.audience import describe_audience, parse_audience
from bot.campaigns.compose import CHECKIN_POSTBACK, build_messages
from bot.campaigns.errors import CampaignError, ClaimLost, QuotaExceeded
from bot.campaigns.sender import Plan, RateLimiter, SendEnv, Sender, SendReport, read_quota
from bot.campaigns.service import (
    cancel,
    create_campaign,
    list_rows,
    parse_at,
    plan_send,
    progress_of,
    send_now,
    worker_once,
)
from bot.store.campaigns import count_audience

__all__ = [
    "CHECKIN_POSTBACK", "CampaignError", "ClaimLost", "Plan", "QuotaExceeded", "RateLimiter", "SendEnv",
    "SendReport", "Sender", "build_messages", "cancel", "count_audience", "create_campaign", "describe_audience",
    "list_rows", "parse_at", "parse_audience", "plan_send", "progress_of", "read_quota", "send_now",
    "worker_once",
]
