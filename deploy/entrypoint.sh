#!/bin/sh
# The image's entrypoint (Containerfile): check the configuration, migrate, then serve.
#
#   twofold check --deploy   Django's deployment checks and Twofold's; a warning stops too, so a
#                            setting left for development never reaches the public port
#   twofold migrate          locked (PostgreSQL advisory lock, SQLite flock): every instance may
#                            run it at start-up, the others wait and then find nothing to do
#   exec "$@"                the command, `twofold serve` by default (the image's CMD): exec, so
#                            that gunicorn is the container's main process and gets its signals
set -eu

twofold check --deploy
twofold migrate

if [ "$#" -eq 0 ]; then
    set -- twofold serve
fi
exec "$@"
