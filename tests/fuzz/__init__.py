"""Property-based tests of the parsers of outside input: nothing crashes, and a refusal changes nothing."""

import os

from hypothesis import HealthCheck, settings

# Modest, so `make test-fast` stays fast; no example database, so nothing is written into the tree.
# CI replays one fixed set of examples, so a run there is repeatable; elsewhere each run tries new ones.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
