// The browser demo in headless Chromium: the page loads the WebAssembly core and the
// models over HTTP from 127.0.0.1, and two photos get the right verdict.

import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { chromium } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { lfwImage, sharedPath } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.fbm': 'application/octet-stream',
};

/** Serves the files of `dir` (no subfolders) on 127.0.0.1 at a free port. */
function serve(dir: string): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const name = path.basename(new URL(request.url ?? '/', 'http://127.0.0.1').pathname) || 'index.html';
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('demo page gives the verdict in headless Chromium', async () => {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`  skip browser demo: ${CHROMIUM} is absent (apt-get install chromium)`);
    return;
  }
  if (!sharedPath('faces/lfw', 'browser demo')) return;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { buildDemo } = require('../demo/build.js') as { buildDemo(): Promise<string> };
  const dir = await buildDemo();

  const server = await serve(dir);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-chromium-'));
  // A persistent context on a new, empty folder is a fresh --user-data-dir.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  }).catch((error: Error) => {
    server.close();
    throw error;
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => !(document.getElementById('compare') as HTMLButtonElement).disabled, null, { timeout: 120_000 });
    assert.match(await page.textContent('#status') ?? '', /backend wasm, kernels simd128/);

    const cases: [string, string, string][] = [
      [lfwImage('Colin_Powell', 40), lfwImage('Colin_Powell', 71), 'same'],
      [lfwImage('Colin_Powell', 40), lfwImage('George_W_Bush', 7), 'different'],
    ];
    for (const [first, second, expected] of cases) {
      await page.setInputFiles('#first', first);
      await page.setInputFiles('#second', second);
      await page.click('#compare');
      await page.waitForFunction(() => ['same', 'different', 'error'].includes(document.getElementById('verdict')!.dataset.state!), null, { timeout: 120_000 });
      const state = await page.getAttribute('#verdict', 'data-state');
      assert.is(state, expected, `${path.basename(first)} / ${path.basename(second)}: ${await page.textContent('#verdict')}`);
      await page.evaluate(() => { document.getElementById('verdict')!.dataset.state = 'idle'; });
    }
    assert.equal(errors, [], 'page errors');
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test.run();
