"""Live air quality: Air4Thai's readings (fetch), the nearest station (nearest), what a resident reads
(card), opt-in haze alerts sent through the campaign sender (alerts), the worker's jobs and the CLI.

The bands, colours and advice are data in content/air.yaml; readings and subscriptions live in the
database (bot/store/air.py). Nothing here is called from the webhook except reading stored rows.
"""
