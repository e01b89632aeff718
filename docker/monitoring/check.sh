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
# Our own metric families (ringmint_*) must lint clean. Those of libraries
# (libp2p_*, and prom-client's defaults under ringmint_process_*) are linted and
# their findings listed, but they are not ours to rename.
for url in "$@"; do
  node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error(r.status); process.stdout.write(await r.text()); }).catch((e) => { console.error(`${process.argv[1]}: ${e.message}`); process.exit(1); })' "$url" > "$tmp/metrics.txt"
  node -e '
    const own = (n) => n.startsWith("ringmint_") && !n.startsWith("ringmint_process_");
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
    const out = lines.filter((l) => { const m = /^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(l); return m !== null && own(m[1]); });
    process.stdout.write(out.join("\n") + "\n");' "$tmp/metrics.txt" > "$tmp/own.txt"
  echo "checking metrics of $url: $(grep -c '^# TYPE' "$tmp/own.txt") ringmint families"
  promtool check metrics < "$tmp/own.txt"
  if ! promtool check metrics < "$tmp/metrics.txt" > "$tmp/all.txt" 2>&1; then
    echo "  library metrics (not ours, listed only): $(wc -l < "$tmp/all.txt") lint findings"
    sed 's/^/    /' "$tmp/all.txt"
  fi
done
