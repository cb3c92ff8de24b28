"""The tiered customer-service bot, outside the action server.

Kept import-free: ``bot.rasa_addons`` and ``bot.tokens`` run inside the Rasa
server's Python, which lacks the action server's libraries.
"""
