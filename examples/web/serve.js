// A tiny static server for the demo page (no dependencies): / → examples/web/, /edgec/ → dist/browser/
// (the runtime ESM bundle and its .wasm files, served as application/wasm for streaming compilation),
// /model.edgec → the bundle given. Used by `npm run demo` and by test/browser.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, dirname, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.edgec': 'application/octet-stream',
};

/** Starts serving on host:port (port 0 = any free one); resolves to { url, close }. */
export function serveDemo({ bundlePath, host = '127.0.0.1', port = 0 }) {
  const mounts = [
    ['/edgec/', join(root, 'dist/browser')],
    ['/', here],
  ];
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      let file = null;
      if (path === '/model.edgec') file = bundlePath;
      else {
        for (const [prefix, dir] of mounts) {
          if (!path.startsWith(prefix)) continue;
          const rel = normalize(path.slice(prefix.length) || 'index.html');
          if (rel.startsWith('..')) break;
          file = join(dir, rel);
          break;
        }
      }
      if (file === null) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' || e.code === 'EISDIR' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(String(e.message));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolve({ url: `http://${host}:${p}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
