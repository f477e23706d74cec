// npm run build:web [-- --out web/dist]: the dashboard's files for a static host (the web
// bucket in AWS). config.json is not among them: the deploy writes it for its stage.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebApp } from '../bin/local-runtime/web-app.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'web/dist' } } });
const out = values.out;
await rm(out, { recursive: true, force: true });
for (const [path, asset] of await buildWebApp()) {
  if (path === '/config.json') continue;
  const file = join(out, path === '/' ? 'index.html' : path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, asset.body);
  console.log(`${file} ${asset.body.byteLength} bytes, ${asset.gzip.byteLength} gzipped`);
}
