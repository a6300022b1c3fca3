// Kills a process while it saves a gallery, many times at random points, and checks that
// the file then contains exactly the previous or the next gallery.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Gallery } from '../lib/gallery';
import { encodeGallery } from '../lib/gallery-file';
import { crashGallery } from './gallery-save-child';

const KILLS = 50;
const CHILD = path.join(__dirname, 'gallery-save-child.ts');

// Starts the child, waits for its "ready" line, lets it save for `delayMs`, then SIGKILLs it.
function saveAndKill(file: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', CHILD, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`The saving child exited with code ${code} before it was killed`));
    });
  });
}

test('SIGKILL during save leaves old or new gallery', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-crash-'));
  const file = path.join(dir, 'gallery.fbg');
  const a = crashGallery('A');
  const expected = {
    A: Buffer.concat(encodeGallery(a.snapshot())),
    B: Buffer.concat(encodeGallery(crashGallery('B').snapshot())),
  };
  await a.save(file);

  const seen = { A: 0, B: 0 };
  let random = 12345;
  for (let kill = 0; kill < KILLS; kill++) {
    random = (random * 1103515245 + 12345) % 2147483648;
    const delayMs = random % 60;
    await saveAndKill(file, delayMs);

    const bytes = fs.readFileSync(file);
    const found = bytes.equals(expected.A) ? 'A' : bytes.equals(expected.B) ? 'B' : undefined;
    assert.ok(found, `kill ${kill} after ${delayMs} ms left a file equal to neither gallery (${bytes.length} bytes)`);
    seen[found!]++;
    const opened = await Gallery.open(file, { modelId: 'crash-test-model' });
    assert.is(opened.size, 2000);
    assert.is(opened.list()[0], `${found}-0`);
  }

  const leftovers = fs.readdirSync(dir).filter((name) => name.endsWith('.tmp')).length;
  console.log(`  ${KILLS} kills: file held A ${seen.A} times, B ${seen.B} times; ${leftovers} kills left a temporary file`);
  assert.ok(seen.B > 0, 'at least one save completed before a kill');
  assert.ok(leftovers > 0, 'at least one kill landed while a temporary file was being written');
  fs.rmSync(dir, { recursive: true, force: true });
});

test.run();
