"""``python -m bench.chaos``: the load-and-chaos run (see ``bench.chaos``)."""

# Locust runs on gevent: patch the standard library first, in this process alone.
from gevent import monkey

monkey.patch_all()

from bench.chaos.run import main  # noqa: E402

raise SystemExit(main())
