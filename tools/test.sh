#!/usr/bin/env bash
# The one test command (`npm test`): set-up, generated-code freshness, module boundaries, typecheck,
# then every Jest project: unit, integration (real Redis/NATS servers started per suite) and
# end-to-end (the whole cloud as processes), in that order.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export NX_DAEMON=false
start=$(date +%s)
echo "== proto freshness and lint"; npx tsx tools/proto/check-fresh.ts
echo "== module boundaries"; npx tsx tools/boundaries/check-boundaries.ts
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== unit + integration tests"; npx jest --selectProjects unit integration --ci "$@"
echo "== end-to-end tests"; npx jest --selectProjects e2e --ci --runInBand "$@"
echo "== all tests passed in $(( $(date +%s) - start )) s"
