"""The tiered customer-service bot, outside the action server.

Kept import-free: modules under ``bot.nlu`` and ``bot.channels`` run inside the
Rasa server's Python, which lacks the action server's libraries.
"""
