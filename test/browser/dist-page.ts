// The harness the browser training suites share: headless Debian Chromium (the flags the closed network needs)
// and a localhost server where / is an empty page (a same-origin home for the modules and their workers) and
// /edgec/ is dist/browser. Paths that climb out of dist/browser get a 404.
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

export async function openDistPage(): Promise<DistPage> {
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith('/edgec/'))
      return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>edgec</title>');
    const rel = normalize(path.slice('/edgec/'.length));
    const type = rel.endsWith('.js')
      ? 'text/javascript'
      : rel.endsWith('.wasm')
        ? 'application/wasm'
        : 'application/octet-stream';
    try {
      res.writeHead(200, { 'content-type': type }).end(await readFile(join(DIST, rel.startsWith('..') ? 'none' : rel)));
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
