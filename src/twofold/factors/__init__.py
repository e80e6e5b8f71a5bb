"""Second factors. One sub-package per factor, one small interface for all (``registry``)."""
