// report.html: one self-contained page of plots drawn as inline SVG here (no
// scripts, no external assets): throughput over time, latency CDF, load per node,
// reputation over time and the double-spend timeline.
import type { RunResult } from './run-result.ts';

const W = 640;
const H = 240;
const PAD = 56;

type Line = { name: string; color: string; points: [number, number][] };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Ticks per plot axis. */
const TICKS = 5;

function plot(title: string, xLabel: string, yLabel: string, lines: Line[], opts: { bars?: boolean; dots?: boolean } = {}): string {
  const all = lines.flatMap((l) => l.points);
  if (all.length === 0) return `<h2>${esc(title)}</h2><p>no data</p>`;
  // Loops, not Math.min(...spread): a large run's series would overflow the call stack.
  let xMin = Infinity;
  let xMaxSeen = -Infinity;
  let yLow = 0;
  let yHigh = -Infinity;
  for (const [x, y] of all) {
    if (x < xMin) xMin = x;
    if (x > xMaxSeen) xMaxSeen = x;
    if (y < yLow) yLow = y;
    if (y > yHigh) yHigh = y;
  }
  const xMax = Math.max(xMaxSeen, xMin + 1e-9);
  const yMin = yLow;
  const yMax = Math.max(yHigh, yMin + 1e-9);
  const sx = (x: number): number => PAD + ((x - xMin) / (xMax - xMin)) * (W - 2 * PAD);
  const sy = (y: number): number => H - PAD - ((y - yMin) / (yMax - yMin)) * (H - 2 * PAD);
  const f = (n: number): string => n.toFixed(1);
  let body = `<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#444"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="#444"/>`;
  if (yMin < 0) body += `<line x1="${PAD}" y1="${f(sy(0))}" x2="${W - PAD}" y2="${f(sy(0))}" stroke="#bbb" stroke-dasharray="4"/>`;
  for (const l of lines) {
    if (opts.bars) {
      const bw = Math.max(1, (W - 2 * PAD) / Math.max(l.points.length, 1) - 1);
      for (const [x, y] of l.points) body += `<rect x="${f(sx(x))}" y="${f(sy(y))}" width="${f(bw)}" height="${f(sy(yMin) - sy(y))}" fill="${l.color}"/>`;
    } else if (opts.dots) {
      for (const [x, y] of l.points) body += `<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.5" fill="${l.color}"/>`;
    } else {
      body += `<polyline fill="none" stroke="${l.color}" stroke-width="1.5" points="${l.points.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`;
    }
  }
  body += `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`;
  body += `<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text>`;
  // Five ticks per axis, with light grid lines, so values can be read off the plot.
  const label = (n: number): string => (Math.abs(n) >= 1000 || Number.isInteger(n) ? Math.round(n).toLocaleString('en') : n.toPrecision(3));
  for (let i = 0; i <= TICKS; i++) {
    const y = yMin + ((yMax - yMin) * i) / TICKS;
    const x = xMin + ((xMax - xMin) * i) / TICKS;
    body += `<line x1="${PAD}" y1="${f(sy(y))}" x2="${W - PAD}" y2="${f(sy(y))}" stroke="#eee"/>`;
    body += `<text x="${PAD - 4}" y="${f(sy(y) + 3)}" font-size="10" text-anchor="end">${label(y)}</text>`;
    body += `<text x="${f(sx(x))}" y="${H - PAD + 14}" font-size="10" text-anchor="middle">${label(x)}</text>`;
  }
  const legend = lines.map((l) => `<span style="color:${l.color}">■ ${esc(l.name)}</span>`).join(' ');
  return `<h2>${esc(title)}</h2><div>${legend}</div><svg width="${W}" height="${H}" font-family="sans-serif" font-size="12">${body}</svg>`;
}

export function renderReport(r: RunResult): string {
  const { summary: s, world: w } = r;
  const sec = (col: Parameters<typeof w.obs.series.column>[0]): [number, number][] => w.obs.series.column(col).map((v, i) => [i, v]);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
  // Reputation: every non-honest node, plus the honest nodes whose score moved (at most 6 lines).
  const byNode = new Map<number, [number, number][]>();
  for (const [t, node, score] of w.obs.reputationLog) {
    let pts = byNode.get(node);
    if (!pts) byNode.set(node, (pts = []));
    pts.push([t / 1000, score]);
  }
  const repLines: Line[] = [...byNode.entries()]
    .sort((a, b) => Number(w.hosts[a[0]]!.honest) - Number(w.hosts[b[0]]!.honest) || a[0] - b[0])
    .slice(0, 6)
    .map(([node, pts], i) => ({ name: `node ${node} (${w.hosts[node]!.role})`, color: colors[i % colors.length]!, points: pts }));
  const ds = w.workload.attempts;
  const load = w.hosts.map((h) => h.messagesIn).sort((a, b) => b - a).map((v, i) => [i, v] as [number, number]);
  const inv = Object.entries(s.invariants).map(([k, v]) => `<tr><td>${k}</td><td style="color:${v === 'pass' ? 'green' : 'red'}">${esc(v)}</td></tr>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>ringmint sim: ${esc(s.scenario)} seed ${esc(String(s.seed))}</title>
<style>body{font-family:sans-serif;max-width:720px;margin:2em auto;color:#222}td{padding:2px 8px}pre{background:#f4f4f4;padding:8px;overflow:auto}</style></head><body>
<h1>ringmint simulation: ${esc(s.scenario)}</h1>
<p>seed ${esc(String(s.seed))}; ${s.params.nodes} nodes, ${s.params.accounts} accounts, k=${s.params.k} q=${s.params.q}, ${s.params.crypto} crypto;
${s.transfers.submitted} transfers submitted, ${s.transfers.stored} stored; ${s.sim.events} events over ${s.sim.virtualSeconds} virtual s.</p>
<table>${inv}</table>
${plot('Throughput over time', 'virtual second', 'transfers / s', [
    { name: 'submitted', color: colors[0]!, points: sec('submitted') },
    { name: 'final', color: colors[2]!, points: sec('final') },
    { name: 'stored', color: colors[3]!, points: sec('stored') },
  ])}
${plot('Latency CDF (from wallet submission)', 'ms', 'fraction', [
    { name: 'final', color: colors[2]!, points: w.obs.latency.final.cdf() },
    { name: 'credited', color: colors[4]!, points: w.obs.latency.credited.cdf() },
    { name: 'stored', color: colors[3]!, points: w.obs.latency.stored.cdf() },
  ])}
${plot('Load per node (messages received, nodes sorted)', 'node rank', 'messages', [{ name: 'messages in', color: colors[0]!, points: load }], { bars: true })}
${plot('Reputation over time', 'virtual second', 'score', repLines)}
${plot('Double-spend timeline', 'attempt time (virtual s)', 'time to alert (ms)', [
    { name: 'alerted', color: colors[1]!, points: ds.filter((a) => a.alertAt !== undefined).map((a) => [a.at / 1000, a.alertAt! - a.at]) },
  ], { dots: true })}
<h2>Summary</h2><pre>${esc(JSON.stringify({ ...s, params: undefined }, null, 2))}</pre>
</body></html>
`;
}
