"""Settings for the test suite: Twofold's own settings, with a throw-away data directory.

``TWOFOLD_TEST_BACKEND=services`` (set by ``python -m tests.services``) runs the suite on
PostgreSQL and Redis, in a fresh database ``twofold_test_<random>`` created and dropped by the run.
"""

import os
import secrets
import tempfile

os.environ.setdefault("TWOFOLD_DATA_DIR", tempfile.mkdtemp(prefix="twofold-test-"))
_RUN_ID = secrets.token_hex(4)

if os.environ.get("TWOFOLD_TEST_BACKEND") == "services":
    from tests.services import POSTGRES_URL, REDIS_URL

    os.environ["TWOFOLD_DATABASE_URL"] = f"{POSTGRES_URL}/twofold_test_{_RUN_ID}"
    os.environ["TWOFOLD_REDIS_URL"] = REDIS_URL

from twofold.config.settings import *  # noqa: E402, F403
from twofold.config.settings import CACHES, DATABASES  # noqa: E402

# A database file (not SQLite's in-memory default): WAL and concurrent writers behave as deployed.
# On PostgreSQL the test database is the fresh twofold_test_<random>, dropped at the end.
DATABASES["default"]["TEST"] = {"NAME": str(DATABASES["default"]["NAME"])}
CACHES["default"]["KEY_PREFIX"] = f"twofold-test-{_RUN_ID}"
