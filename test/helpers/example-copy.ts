// A copy of the shipped sample (examples/config.yaml and registry.yaml) in a temporary
// directory, its state there too, for the commands that change the registry.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';
import { tmpDir } from './tmp.js';

export interface ExampleCopy {
  dir: string;
  config: string;
  registry: string;
}

/** `deleteCommand`: lifecycle.deleteCommand (the sample's, doveadm, would need Dovecot). */
export function exampleCopy(deleteCommand: readonly string[] = ['/bin/true']): ExampleCopy {
  const dir = tmpDir('mss-cli-');
  for (const f of ['config.yaml', 'registry.yaml']) fs.copyFileSync(path.join(REPO_ROOT, 'examples', f), path.join(dir, f));
  const config = path.join(dir, 'config.yaml');
  // lifecycle: is the sample's last section: the key goes under it.
  const text = fs.readFileSync(config, 'utf8').replace('../.sandbox/example-state', 'state');
  fs.writeFileSync(config, `${text}  deleteCommand: ${JSON.stringify(deleteCommand)}\n`);
  return { dir, config, registry: path.join(dir, 'registry.yaml') };
}
