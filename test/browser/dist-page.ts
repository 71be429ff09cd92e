// The harness the browser training suites share: headless Debian Chromium (the flags the closed network needs)
// and a localhost server where / is an empty page (a same-origin home for the modules and their workers) and
// /edgec/ is dist/browser. Paths that climb out of dist/browser get a 404. With `isolated`, /isolated is the same empty
// page made cross-origin isolated (COOP same-origin, COEP require-corp: SharedArrayBuffer, so the threads build), and
// dist/browser is served with the COEP / CORP headers its module workers need there.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const DIST = fileURLToPath(new URL('../../dist/browser/', import.meta.url));

export interface DistPage {
  /** The empty page's address (ends in '/'); modules are at `${url}edgec/…`. */
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export async function openDistPage(opts: { isolated?: boolean } = {}): Promise<DistPage> {
  const extra = opts.isolated ? { ...ISOLATION, 'cross-origin-resource-policy': 'same-origin' } : {};
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith('/edgec/'))
      return res
        .writeHead(200, { 'content-type': 'text/html', ...(opts.isolated && path === '/isolated' ? ISOLATION : {}) })
        .end('<!doctype html><title>edgec</title>');
    const rel = normalize(path.slice('/edgec/'.length));
    const type = rel.endsWith('.js')
      ? 'text/javascript'
      : rel.endsWith('.wasm')
        ? 'application/wasm'
        : 'application/octet-stream';
    try {
      const body = await readFile(join(DIST, rel.startsWith('..') ? 'none' : rel));
      res.writeHead(200, { 'content-type': type, ...extra }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}
