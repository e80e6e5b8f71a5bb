"""The benchmark harness behind ``make bench`` (issue 7; docs/performance.md).

Not part of the package or the test suite: it seeds a fresh data directory, serves Twofold with
``twofold serve`` and drives complete sign-ins against it as browsers do.
"""
