"""Property-based tests of the parsers of outside input: nothing crashes, and a refusal changes nothing."""

from hypothesis import HealthCheck, settings

# Modest, so `make test-fast` stays fast; no example database, so nothing is written into the tree.
FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
