#!/usr/bin/env bash
# The one test command (`npm test`): set-up, generated-code freshness, module boundaries, typecheck,
# then every Jest project: unit, integration (real Redis/NATS servers started per suite) and
# end-to-end (the whole cloud as processes), in that order, then the OpenStack interoperability tests
# (tempest against a cloud of its own; tools/interop/run.ts), which must pass at least as many tests as
# tools/interop/min-passed records (every listed test once the guideline is met). Extra arguments go
# to Jest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export NX_DAEMON=false
start=$(date +%s)
results=$(mktemp -d)
summary() {
  node -e '
    const fs = require("fs"); let p = 0, f = 0;
    for (const x of fs.readdirSync(process.argv[1])) { const j = JSON.parse(fs.readFileSync(process.argv[1] + "/" + x)); p += j.numPassedTests; f += j.numFailedTests + j.numRuntimeErrorTestSuites; }
    console.log(`tests: ${p} passed, ${f} failed`);' "$results" 2>/dev/null || true
}
trap summary EXIT
echo "== proto freshness and lint"; npx tsx tools/proto/check-fresh.ts
echo "== module boundaries"; npx tsx tools/boundaries/check-boundaries.ts
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== unit + integration tests"; npx jest --selectProjects unit integration --ci --json --outputFile="$results/1.json" "$@"
echo "== end-to-end tests"; npx jest --selectProjects e2e --ci --runInBand --json --outputFile="$results/2.json" "$@"
echo "== OpenStack interoperability (tempest)"; node --require tsx/cjs tools/interop/run.ts --min "$(cat tools/interop/min-passed)" --concurrency 4 --work-dir "$(mktemp -d)"
echo "== all tests passed in $(( $(date +%s) - start )) s"
