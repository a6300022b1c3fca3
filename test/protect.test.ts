// AES-256-GCM sealing of templates and galleries: round trips through node:crypto and
// WebCrypto in both directions, and typed errors for wrong keys and changed bytes.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { FacebitsError } from '../lib/errors';
import { generateKey, open, openAsync, openTemplate, seal, sealAsync, sealTemplate } from '../lib/protect';
import { buildTemplate, serializeTemplate } from '../lib/template';
import { rejectsWith } from './helpers';

const protect = suite('protect');

const key = generateKey();
const template = Uint8Array.from({ length: 2048 + 64 }, (_, i) => (i * 131 + 7) & 255);

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, FacebitsError, String(error));
    assert.is((error as FacebitsError).code, code, (error as Error).message);
    if (pattern) assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

protect('an encrypted template round-trips through node:crypto and WebCrypto', async () => {
  const sealed = seal(template, key, { kind: 'template' });
  assert.is(sealed.length, template.length + 36);
  assert.is(Buffer.from(sealed.subarray(0, 6)).toString('latin1'), 'FBSEAL');
  assert.not.ok(Buffer.from(sealed).includes(Buffer.from(template.subarray(0, 32))), 'plaintext is not visible');
  assert.equal(open(sealed, key, { kind: 'template' }), template);
  assert.equal(await openAsync(sealed, key, { kind: 'template' }), template);
  const viaWeb = await sealAsync(template, key, { kind: 'gallery', associatedData: Buffer.from('gallery-7') });
  assert.equal(open(viaWeb, key, { kind: 'gallery', associatedData: Buffer.from('gallery-7') }), template);
  assert.equal(open(seal(new Uint8Array(0), key), key), new Uint8Array(0));
});

protect('every seal uses a fresh IV', () => {
  const a = seal(template, key);
  const b = seal(template, key);
  assert.not.equal(a.subarray(8, 20), b.subarray(8, 20));
  assert.not.equal(a.subarray(20), b.subarray(20));
});

protect('a wrong key raises DECRYPTION_FAILED', async () => {
  const sealed = seal(template, key, { kind: 'template' });
  throwsCode(() => open(sealed, generateKey()), 'DECRYPTION_FAILED', /key is wrong/);
  await rejectsWith(openAsync(sealed, generateKey()), 'DECRYPTION_FAILED');
});

protect('any changed bit of a sealed template is rejected', async () => {
  const sealed = seal(template, key, { kind: 'template' });
  for (let at = 0; at < sealed.length; at += at < 40 ? 1 : 97) {
    const copy = sealed.slice();
    copy[at] ^= 1 << (at % 8);
    // Bits of the magic, version and kind fail the header check; all others fail the tag.
    const expected = at < 8 ? 'SEALED_INVALID' : 'DECRYPTION_FAILED';
    throwsCode(() => open(copy, key), expected);
    if (at >= 8) await rejectsWith(openAsync(copy, key), 'DECRYPTION_FAILED');
  }
  throwsCode(() => open(sealed.subarray(0, sealed.length - 1), key), 'DECRYPTION_FAILED');
  throwsCode(() => open(sealed.subarray(0, 20), key), 'SEALED_INVALID', /fewer than/);
  const longer = new Uint8Array(sealed.length + 1);
  longer.set(sealed);
  throwsCode(() => open(longer, key), 'DECRYPTION_FAILED');
});

protect('associated data and kind are bound to the blob', () => {
  const sealed = seal(template, key, { kind: 'template', associatedData: Buffer.from('user-1') });
  throwsCode(() => open(sealed, key, { associatedData: Buffer.from('user-2') }), 'DECRYPTION_FAILED');
  throwsCode(() => open(sealed, key), 'DECRYPTION_FAILED');
  throwsCode(() => open(sealed, key, { kind: 'gallery', associatedData: Buffer.from('user-1') }), 'SEALED_INVALID', /holds a template/);
  // Rewriting the kind byte to pass the kind check still fails authentication.
  const relabelled = sealed.slice();
  relabelled[7] = 2;
  throwsCode(() => open(relabelled, key, { kind: 'gallery', associatedData: Buffer.from('user-1') }), 'DECRYPTION_FAILED');
});

protect('bad keys and inputs raise INVALID_ARGUMENT', async () => {
  for (const bad of [new Uint8Array(16), new Uint8Array(33), 'secret', undefined, new Uint16Array(16)]) {
    throwsCode(() => seal(template, bad as Uint8Array), 'INVALID_ARGUMENT', /32 bytes/);
    throwsCode(() => open(seal(template, key), bad as Uint8Array), 'INVALID_ARGUMENT');
    await rejectsWith(sealAsync(template, bad as Uint8Array), 'INVALID_ARGUMENT');
  }
  throwsCode(() => seal('text' as unknown as Uint8Array, key), 'INVALID_ARGUMENT');
  throwsCode(() => seal(template, key, { kind: 'photo' as 'bytes' }), 'INVALID_ARGUMENT');
  throwsCode(() => open(Buffer.from('FBSEAL\x09\x00' + '0'.repeat(40)), key), 'SEALED_INVALID', /version 9/);
  throwsCode(() => open(Buffer.from('NOTSEAL' + '0'.repeat(40)), key), 'SEALED_INVALID', /magic/);
});

protect('an enrolment template round-trips sealed', () => {
  const samples = [1, 2, 3].map((s) => Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * s)));
  const template = buildTemplate(samples, 'fr_feature@1', () => new Uint8Array(64).fill(0x5a), 512);
  const user = Buffer.from('user-42');
  const blob = sealTemplate(template, key, user);
  const opened = openTemplate(blob, key, user);
  assert.equal(serializeTemplate(opened), serializeTemplate(template));
  throwsCode(() => openTemplate(blob, generateKey(), user), 'DECRYPTION_FAILED');
  throwsCode(() => openTemplate(blob, key, Buffer.from('user-43')), 'DECRYPTION_FAILED');
  const tampered = blob.slice();
  tampered[40] ^= 0x80;
  throwsCode(() => openTemplate(tampered, key, user), 'DECRYPTION_FAILED');
  // A sealed blob whose plaintext is not a template fails the template parser.
  throwsCode(() => openTemplate(seal(Buffer.from('not a template'), key, { kind: 'template', associatedData: user }), key, user), 'INVALID_TEMPLATE');
});

protect.run();
