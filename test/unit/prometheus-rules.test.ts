// The alert rules and the dashboard shipped in examples/ (docs/supervision.md) name only
// metrics `serve` exports, and the rules do what they say: Debian's promtool checks their
// syntax and runs their unit tests (examples/prometheus/alerts.test.yml).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { DaemonMetrics } from '../../src/health/metrics.js';
import { REPO_ROOT } from '../helpers/cli.js';

const PROM = path.join(REPO_ROOT, 'examples', 'prometheus');

/** The metric names a registry exposes, with the series names of histograms. */
async function exported(): Promise<Set<string>> {
  const text = await new DaemonMetrics({ monitorMode: false }).registry.metrics();
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1] as string, m[2] as string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** mss_* metric names a PromQL expression uses (label values and strings left out). */
function metricsIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  return [...new Set([...bare.matchAll(/\b(mss_[a-z0-9_]+)\b/g)].map((m) => m[1] as string))];
}

function alertRules(): Array<{ alert: string; expr: string }> {
  const doc = parse(fs.readFileSync(path.join(PROM, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules);
}

function dashboardExprs(): string[] {
  const doc = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'grafana', 'mss-sidecar.json'), 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
  };
  return doc.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

test('EX_SSI_5120: every metric the shipped alert rules and the Grafana dashboard use is one `serve` exports', async () => {
  const names = await exported();
  const mss = [...names].filter((n) => n.startsWith('mss_') && !/_(bucket|sum|count)$/.test(n));
  assert.ok(mss.length >= 17, `${mss.length} mss_ metrics: ${mss.join(' ')}`);
  const rules = alertRules();
  assert.ok(rules.length >= 10);
  for (const r of rules) {
    const used = metricsIn(r.expr);
    assert.ok(used.length > 0 || /\bup\b/.test(r.expr), `${r.alert}: no metric`);
    for (const m of used) assert.ok(names.has(m), `${r.alert} uses ${m}, which serve does not export`);
  }
  const exprs = dashboardExprs();
  assert.ok(exprs.length >= 15);
  for (const e of exprs) for (const m of metricsIn(e)) assert.ok(names.has(m), `the dashboard uses ${m}, which serve does not export: ${e}`);
  // What the issue asked the rules to cover.
  const covered = rules.map((r) => r.alert).join(' ');
  for (const a of ['MssWhitelistStale', 'MssCrlStale', 'MssCertificateExpiring', 'MssStoreDown', 'MssSpoolGrowing', 'MssRefusalSpike', 'MssPscErrors'])
    assert.match(covered, new RegExp(`\\b${a}\\b`));
});

test('EX_SSI_5120: promtool (Debian package prometheus) accepts the rules and their unit tests pass', () => {
  const check = spawnSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: PROM, encoding: 'utf8', timeout: 60_000 });
  assert.equal(check.error, undefined, 'promtool is missing: scripts/install-system-deps.sh installs the Debian package prometheus');
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
  const unit = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: PROM, encoding: 'utf8', timeout: 120_000 });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  assert.match(unit.stdout, /SUCCESS/);
});
