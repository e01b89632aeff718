#!/bin/sh
# Checks the monitoring files with promtool (Debian: apt-get install prometheus):
# the scrape configuration, the alert rules and, for each URL given, a live
# /metrics exposition (promtool check metrics lints names, types and help).
#   docker/monitoring/check.sh [http://127.0.0.1:8081/metrics ...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v promtool >/dev/null 2>&1 || { echo "check.sh: promtool is missing (apt-get install prometheus)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The config names the rules where the Prometheus container mounts them; check it against a copy that points here.
sed "s#/etc/prometheus/alerts.yml#$here/alerts.yml#" "$here/prometheus.yml" > "$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml"
promtool check rules "$here/alerts.yml"
for url in "$@"; do
  node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error(r.status); process.stdout.write(await r.text()); }).catch((e) => { console.error(`${process.argv[1]}: ${e.message}`); process.exit(1); })' "$url" > "$tmp/metrics.txt"
  echo "checking metrics of $url"
  promtool check metrics < "$tmp/metrics.txt"
done
