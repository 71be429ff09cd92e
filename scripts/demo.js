#!/usr/bin/env node
// `npm run demo [-- --port N]`: builds when stale, compiles the MNIST example bundle when missing,
// serves examples/web on 127.0.0.1 (examples/web/serve.js) and prints the URL. Ctrl-C stops it.
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
const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
const { url } = await serveDemo({ bundlePath, port });
console.log(`edgec demo: ${url}  (Ctrl-C to stop)`);
