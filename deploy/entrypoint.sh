#!/bin/sh
# Container entrypoint for the hotline12345 image.
#
#   SERVICE=intake PORT=8101  -> python -m services intake --host 0.0.0.0 --port 8101
#   SERVICE unset/empty       -> python -m services --host 0.0.0.0 --port 8000 (all five in one)
#   any arguments             -> python -m services <arguments>   (e.g. `migrate intake`)
#
# `exec` replaces this shell with Python, so Python is PID 1 and receives SIGTERM/SIGINT
# from `docker stop` / the kubelet directly and can shut down gracefully.
set -eu

if [ "$#" -gt 0 ]; then
    exec python -m services "$@"
fi

PORT="${PORT:-8000}"

if [ -n "${SERVICE:-}" ]; then
    exec python -m services "$SERVICE" --host 0.0.0.0 --port "$PORT"
fi

exec python -m services --host 0.0.0.0 --port "$PORT"
