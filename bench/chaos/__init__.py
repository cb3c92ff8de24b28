"""The load-and-chaos run: many customers on every channel, agents replying, replicas killed.

``python -m bench.chaos`` (``make chaos``) starts the scaled topology (``bot.cli.scale``),
drives it with Locust users on REST, socket.io and WeChat, kills ``-9`` and restarts one
replica of each kind in turn, then checks from the clients' records, Rasa's tracker store
and the business database that every message was answered once and in order. Locust and
gevent are imported by ``__main__`` and the modules it runs alone: the checks and the
report import neither, so the test suite never monkey-patches anything.
"""
