#!/usr/bin/env node
// `npm run demo [-- --port N]`: builds when stale, compiles the MNIST example bundle when missing,
// serves examples/web on 127.0.0.1 (examples/web/serve.js) and prints the URL. Ctrl-C stops it.
// Without --port (or PORT) a busy 8080 moves on to 8081…8089; a busy port the user chose is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDemo } from '../examples/web/serve.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const step = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
step([join(root, 'scripts/build.js'), '--if-stale']);
const bundlePath = join(root, 'build/example/mnist.edgec');
const model = join(root, 'examples/mnist/model.json');
if (!existsSync(bundlePath) || statSync(bundlePath).mtimeMs < statSync(model).mtimeMs) {
  mkdirSync(dirname(bundlePath), { recursive: true });
  step([join(root, 'bin/edgec.js'), 'compile', 'examples/mnist/model.json', '-o', 'build/example/mnist.edgec']);
}
const fail = (msg) => {
  console.error(`edgec demo: ${msg}`);
  process.exit(1);
};
const i = process.argv.indexOf('--port');
const given = i > 0 ? process.argv[i + 1] : process.env.PORT;
const port = Number(given ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port expects a port number 0-65535, got '${given}'`);
const ports = given === undefined ? Array.from({ length: 10 }, (_, k) => port + k) : [port];
for (const p of ports) {
  try {
    const { url } = await serveDemo({ bundlePath, port: p });
    if (p !== port) console.log(`edgec demo: port ${port}${p - port > 1 ? `-${p - 1}` : ''} in use, using ${p}`);
    console.log(`edgec demo: ${url}  (Ctrl-C to stop)`);
    break;
  } catch (e) {
    if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') fail(`cannot listen on 127.0.0.1:${p}: ${e.message}`);
    const why = e.code === 'EADDRINUSE' ? 'is in use' : 'needs more privileges';
    if (given !== undefined)
      fail(`port ${p} on 127.0.0.1 ${why}; pick another: npm run demo -- --port ${p + 1} (0: any free port)`);
    if (p === ports.at(-1))
      fail(`ports ${port}-${p} on 127.0.0.1 are all in use; pick one: npm run demo -- --port N (0: any free port)`);
  }
}
