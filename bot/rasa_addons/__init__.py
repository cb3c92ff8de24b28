"""Everything the Rasa server loads (Python 3.10): channels, NLU components, policies.

These modules import only the standard library, Rasa (with its web stack),
wechatpy, redis and ``bot.tokens``; nothing else of ours, and nothing outside
this package imports Rasa (tests/test_layers.py). They take their configuration
from Rasa's own files: ``credentials.yml`` for the channels, whose ``${VAR}``
values Rasa reads from the environment that ``bot run`` derives from
bot/settings.py.

Kept import-free, so the tests' Python can import the standard-library modules
here (the channels' limits, session ids, language detection).
"""
