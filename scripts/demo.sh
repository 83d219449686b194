#!/usr/bin/env bash
# Quick-start command 1: install what is missing, bring the whole stack up, run the demo
# (a GPU workload scaled by a plan, and a plan the quota policy denies), then keep running
# until Ctrl-C so you can look around in the Temporal Web UI and with kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo needs Temporal, the Kubernetes control plane, kwok and kubectl (to look around);
# the test suite's other tools (Kafka, Prometheus, PostgreSQL, helm) are built by `npm test`.
bash scripts/bootstrap.sh temporal etcd kwok kubernetes kubectl

exec node bin/sentinel.mjs dev --demo "$@"
