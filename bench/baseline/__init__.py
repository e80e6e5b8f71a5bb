"""Baselines for ``make bench``, on the same machine, server, database and hash: the same
password-only sign-in against a stock django-allauth project and against bare Django (its own
``LoginView``, no allauth). Run with ``python -m bench.baseline`` (docs/performance.md): what the
stack itself costs, apart from what Twofold adds."""
