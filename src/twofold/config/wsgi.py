import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twofold.config.settings")
# Tracing only with an OTLP endpoint: without one, no OpenTelemetry package is even imported.
if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
    from twofold.config import tracing

    tracing.start()  # before the handler below loads MIDDLEWARE
application = get_wsgi_application()

# Only a process that serves Twofold imports this module (each gunicorn worker): the clean-ups
# run there, unless TWOFOLD_SCHEDULER=off (docs/operations.md, "Clean-ups").
from twofold.scheduler import background  # noqa: E402  (needs the settings set up above)

scheduler = background.start_in_this_process()
