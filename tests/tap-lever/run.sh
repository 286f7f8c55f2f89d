#!/usr/bin/env bash
# The third-party client check: Singer tap-lever (unmodified, from its venv) against a
# lever-sandbox binary on a free loopback port, stopped by PID whatever happens.
#
#   tests/tap-lever/run.sh <lever-sandbox binary> <python of the tap-lever venv> [workdir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=$1
python=$2
workdir=${3:-$(mktemp -d)}
mkdir -p "$workdir"
key="tap-lever-$RANDOM$RANDOM"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Lever's rate limit is off here: the check is about shapes and semantics, and the tap's
# jittered backoff would only make the run slower and its time unpredictable.
"$bin" --addr "127.0.0.1:$port" --api-key "$key" --no-rate-limit >"$workdir/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  grep -q "listening on" "$workdir/sandbox.log" 2>/dev/null && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$workdir/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$workdir/sandbox.log" || { echo "lever-sandbox did not start" >&2; exit 1; }

"$python" "$here/run_tap.py" --sandbox "http://127.0.0.1:$port" --api-key "$key" --workdir "$workdir"
