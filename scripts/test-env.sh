#!/usr/bin/env bash
# Start or stop the services the integration tests need (a private dockerd).
#
#   scripts/test-env.sh start [OWNER]  # start dockerd on $CG_DOCKER_DIR/docker.sock unless one answers there
#   scripts/test-env.sh stop [OWNER]   # stop it again, but only if that `start` launched it
#   scripts/test-env.sh env            # print the export line for DOCKER_HOST
#
# OWNER is a file that `start` writes the daemon's pid to only when it launched one; `make test` passes
# a fresh temp file, so it never stops a daemon that was already running (a developer's, say).
#
# The registry is not started here: the test session starts its own (tests/integration/conftest.py),
# so a test run never depends on a registry left over from an earlier run.
set -euo pipefail

DIR="${CG_DOCKER_DIR:-/tmp/cg-docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/docker.pid"
# Marker written only when this script launched the daemon: `stop` never kills a dockerd
# someone else started on the same socket.
OWNED="${2:-$DIR/started-by-test-env}"
LOG="$DIR/dockerd.log"
export DOCKER_HOST="unix://$SOCK"

answers() {
    timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

start() {
    mkdir -p "$DIR"
    rm -f "$OWNED"
    if answers; then
        echo "test-env: reusing dockerd on $SOCK"
        return 0
    fi
    if ! command -v dockerd >/dev/null; then
        echo "test-env: dockerd not installed (apt-get install -y docker.io)" >&2
        return 1
    fi
    # A stale pid file from a killed daemon makes dockerd refuse to start.
    if [[ -f "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        rm -f "$PIDFILE"
    fi
    # vfs + no iptables/bridge: the only configuration that works in this sandbox (see DESIGN.md).
    setsid dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
        --host="unix://$SOCK" --data-root="$DIR/root" --exec-root="$DIR/exec" \
        --pidfile="$PIDFILE" >"$LOG" 2>&1 </dev/null &
    echo $! >"$OWNED"
    for _ in $(seq 1 60); do
        if answers; then
            echo "test-env: dockerd up on $SOCK (pid $(cat "$OWNED"))"
            return 0
        fi
        if ! kill -0 "$(cat "$OWNED")" 2>/dev/null; then
            echo "test-env: dockerd exited; last log lines:" >&2
            tail -20 "$LOG" >&2
            rm -f "$OWNED"
            return 1
        fi
        sleep 1
    done
    echo "test-env: dockerd did not answer within 60s; see $LOG" >&2
    return 1
}

stop() {
    if [[ ! -s "$OWNED" ]]; then
        echo "test-env: dockerd not started by test-env; leaving it running"
        return 0
    fi
    local pid
    pid="$(cat "$OWNED")"
    rm -f "$OWNED"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
    fi
    echo "test-env: dockerd stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) echo "export DOCKER_HOST=$DOCKER_HOST" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
