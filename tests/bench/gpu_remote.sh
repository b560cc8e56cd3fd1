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
# GPU idle). PART_S overrides the seconds each part may take (default 240).
set -uo pipefail
part_s=${PART_S:-240}
cd "$(dirname "$0")/../.."

# Run one part under `timeout`, keep its JSON lines, and report a non-zero exit as a JSON line.
part() {
  local name=$1
  shift
  timeout "$part_s" "$@" | grep '^{'
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || echo "{\"part\":\"$name\",\"exit\":$rc}"
}

echo "{\"part\":\"start\",\"date\":\"$(date -u +%FT%TZ)\"}"
part webgpu deno run -A tests/bench/webgpu.ts --json 8
if [ -f .gpu/torch_cuda_ref.py ]; then
  part torch python3 .gpu/torch_cuda_ref.py vit_a vit_b gpt vit_s gpt_m
else
  echo '{"part":"torch","skipped":".gpu/torch_cuda_ref.py absent (build .gpu/ with pack.sh)"}'
fi
part numerics deno run -A tests/bench/webgpu_numerics.ts 10 1
echo '{"part":"end"}'
