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
    local attempt
    for attempt in 1 2 3; do
        clear_leftovers
        if launch; then
            return 0
        fi
        echo "test-env: dockerd start attempt $attempt failed; last log lines:" >&2
        grep -v 'level=info' "$LOG" | tail -5 >&2 || true
    done
    echo "test-env: dockerd would not start; see $LOG" >&2
    return 1
}

# Kill what a killed daemon leaves behind under $DIR: an orphaned containerd keeps the lock on its
# metadata database, so the next dockerd's containerd hangs and dockerd gives up ("timeout waiting
# for containerd to start"). Only processes whose command line names $DIR are touched.
clear_leftovers() {
    local pids
    pids="$(pgrep -f -- "(dockerd|containerd).*$DIR/" || true)"
    if [[ -n "$pids" ]]; then
        echo "test-env: stopping leftover daemons under $DIR: $(echo $pids)"
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 1 10); do
            pids="$(pgrep -f -- "(dockerd|containerd).*$DIR/" || true)"
            [[ -z "$pids" ]] && break
            sleep 1
        done
        [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null || true
    fi
    rm -f "$PIDFILE" "$SOCK" "$DIR/exec/containerd/containerd.pid"
}

# Start one dockerd and wait until it answers; 0 when it does.
launch() {
    # vfs + no iptables/bridge: the only configuration that works in this sandbox (see DESIGN.md).
    setsid dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
        --host="unix://$SOCK" --data-root="$DIR/root" --exec-root="$DIR/exec" \
        --pidfile="$PIDFILE" >"$LOG" 2>&1 </dev/null &
    echo $! >"$OWNED"
    for _ in $(seq 1 90); do
        if answers; then
            echo "test-env: dockerd up on $SOCK (pid $(cat "$OWNED"))"
            return 0
        fi
        if ! kill -0 "$(cat "$OWNED")" 2>/dev/null; then
            rm -f "$OWNED"
            return 1
        fi
        sleep 1
    done
    kill -KILL "$(cat "$OWNED")" 2>/dev/null || true
    rm -f "$OWNED"
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
    clear_leftovers
    echo "test-env: dockerd stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) echo "export DOCKER_HOST=$DOCKER_HOST" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
