"""Speed benchmarks against peers; run one with ``python -m benchmarks.<name>`` (never part of the test suite)."""
