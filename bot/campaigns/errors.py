"""Problems the campaign office can act on; each message says what to do."""
from __future__ import annotations


class CampaignError(Exception):
    """A problem the campaign office can act on; the message says what to do."""


class QuotaExceeded(CampaignError):
    pass


class ClaimLost(CampaignError):
    pass
