// `stats build` runs monthly on every node and its peak memory is a goal (issue 20: RSS
// < 100 MB for a month of 1,000,000 recipient events): most of a Node process at start is
// the code it loaded. The build must not load what only validate, upload, report and run
// use: the SIPIL client, the report's XML parser, the local controls and, through them, the
// liste blanche and PKI code (~10 MB of the process, measured); nor the log prettifier
// (pino-pretty: only a terminal wants it, the timer logs JSON).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { statsRegistryYaml } from '../../sandbox/stats-data.js';
import { monthRange } from '../../src/stats/month.js';
import { urlsLoadedBy } from '../helpers/loaded-modules.js';
import { tmpDir } from '../helpers/tmp.js';

test('EX_PSU_5010: `stats build` loads neither the SIPIL client, the XML parsers, the local controls, nor the liste blanche or PKI code, nor the log prettifier', () => {
  const dir = tmpDir('mss-stats-loads-');
  const domains = ['ch-loads.mssante.fr'];
  fs.writeFileSync(path.join(dir, 'registry.yaml'), statsRegistryYaml(domains, monthRange({ year: 2025, month: 3 }, 'Europe/Paris')));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    config,
    stringify({
      operator: { name: 'CH LOADS', domains, structureId: '1130000001', certificate: path.join(dir, 'x.crt'), key: path.join(dir, 'x.key') },
      trust: { dir: path.join(dir, 'trust') },
      state: { dir: path.join(dir, 'state') },
      registry: { file: path.join(dir, 'registry.yaml') },
    }),
  );
  const out = path.join(dir, 'out');
  const urls = urlsLoadedBy(['--config', config, 'stats', 'build', '--month', '2025-03', '--now', '2025-04-02T00:00:00Z', '--out', out]);
  assert.ok(
    fs.readdirSync(out).some((n) => n.endsWith('.zip')),
    'the build ran and wrote its archive',
  );
  assert.ok(
    urls.some((u) => u.endsWith('/dist/src/stats/build.js')),
    'the build module itself is seen by the hook',
  );
  const unwanted = urls.filter((u) =>
    /\/dist\/src\/(stats\/(job|report|schedule|sipil-[a-z-]+|archive-check|controls|local-context|zip)|whitelist\/(verify|xml[a-z-]*|signature|store)|pki\/(truststore|certificate))\.js$|\/node_modules\/(@xmldom|saxes|pino-pretty)\//.test(
      u,
    ),
  );
  assert.deepEqual(unwanted, [], 'modules `stats build` does not need');
});
