#!/usr/bin/env bash
# One-shot measurement of the compiled WebGPU step on a GPU host, beside PyTorch CUDA on the same
# card: run from the project root through the offline kit (../shared/gpu/README.md):
#
#   bash .gpu/remote.sh bash tests/bench/gpu_remote.sh
#
# Prints JSON lines only (one per measurement), each part bounded by `timeout` so a hung part
# costs at most its share of the GPU time: (1) the webgpu bench (launches per step, host ms,
# img/s or tok/s and model TFLOP/s for ViT a/b/s and GPT / GPT m), (2) PyTorch CUDA on the same
# configurations, (3) the numeric check against tfjs-cpu at the benchmark configurations for 10
# steps (the 50-step check ran on lavapipe; its tfjs-cpu reference is CPU-bound and would hold the
# GPU idle), (4) the server end to end: `POST /v1/train` of GPT 128/4/4 for 40 steps (it must pick
# webgpu on its own and answer with `dispatches_per_step`), then SIGTERM and its exit code (the
# tfjs path's server died of SIGSEGV there). PART_S overrides the seconds each part may take
# (default 120, so the four parts fit one 10-minute device call); TRAIN_JSON overrides the train
# request; PARTS picks parts (default "webgpu torch numerics server").
set -uo pipefail
part_s=${PART_S:-120}
cd "$(dirname "$0")/../.."

# Run one part under `timeout`, keep its JSON lines, and report a non-zero exit as a JSON line.
part() {
  local name=$1
  shift
  timeout "$part_s" "$@" | grep '^{'
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || echo "{\"part\":\"$name\",\"exit\":$rc}"
}

# Whether part $1 is wanted.
want() { [[ " ${PARTS:-webgpu torch numerics server} " == *" $1 "* ]]; }

echo "{\"part\":\"start\",\"date\":\"$(date -u +%FT%TZ)\"}"
want webgpu && part webgpu deno run -A tests/bench/webgpu.ts --json 8
if want torch; then
  if [ -f .gpu/torch_cuda_ref.py ]; then
    part torch python3 .gpu/torch_cuda_ref.py vit_a vit_b gpt vit_s gpt_m
  else
    echo '{"part":"torch","skipped":".gpu/torch_cuda_ref.py absent (build .gpu/ with pack.sh)"}'
  fi
fi
want numerics && part numerics deno run -A tests/bench/webgpu_numerics.ts 10 1
# (4) The server: train once over HTTP, then stop it with SIGTERM.
if want server; then
port=${PORT_FOR_TEST:-8765}
PORT=$port deno run -A main.ts >/tmp/flops-fit-server.log 2>&1 &
server=$!
train_json=${TRAIN_JSON:-'{"family":"gpt","size":128,"config":{"depth":4,"heads":4,"context":128},"dataset":"synthetic-text","budget":{"steps":40},"batch_size":32}'}
timeout "$part_s" python3 - "$port" "$train_json" <<'PY' || echo "{\"part\":\"server_train\",\"exit\":$?}"
import json, sys, time, urllib.request
port, body = sys.argv[1], sys.argv[2].encode()
base = f"http://127.0.0.1:{port}"
for _ in range(120):
    try:
        health = json.load(urllib.request.urlopen(f"{base}/healthz", timeout=2))
        break
    except Exception:
        time.sleep(1)
else:
    print(json.dumps({"part": "server_train", "failed": "no /healthz"})); sys.exit(1)
req = urllib.request.Request(f"{base}/v1/train", data=body, headers={"content-type": "application/json"})
try:
    r = json.load(urllib.request.urlopen(req, timeout=600))
except urllib.error.HTTPError as e:
    print(json.dumps({"part": "server_train", "status": e.code, "body": e.read().decode()[:500]})); sys.exit(1)
keys = ["backend", "steps", "loss", "eval_loss", "step_ms_median", "samples_per_s", "tokens_per_s",
        "model_flops_per_s", "dispatches_per_step", "host_ms_per_step"]
print(json.dumps({"part": "server_train", "healthz_backend": health.get("backend"), **{k: r.get(k) for k in keys}}))
PY
kill -TERM "$server" 2>/dev/null
timeout 60 tail --pid="$server" -f /dev/null
wait "$server"
echo "{\"part\":\"server_exit\",\"code\":$?,\"log_tail\":$(tail -c 300 /tmp/flops-fit-server.log | python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')}"
fi

echo '{"part":"end"}'
