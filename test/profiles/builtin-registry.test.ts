// The built-in decoder registry, and a profile that names a built-in decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinDecoder, builtinDecoderNames, registerDecoder } from '../../src/profiles/decoders/registry.js';
import { parseProfile } from '../../src/profiles/load.js';
import { runExamples } from '../../src/profiles/examples.js';

test('names are namespaced, lowercase and unique', () => {
  assert.ok(builtinDecoderNames().includes('bluetooth-sig/battery-level'));
  const decoder = builtinDecoder('bluetooth-sig/battery-level')!;
  assert.throws(() => registerDecoder(decoder), /already registered/);
  assert.throws(() => registerDecoder({ ...decoder, name: 'Battery' }), /'<namespace>\/<format>' in lowercase/);
  assert.throws(() => decoder.compile({ scale: 2 }), /bluetooth-sig\/battery-level: unknown option 'scale'; it takes none/);
});

test('a profile naming a built-in decoder decodes through it, examples included', () => {
  // Battery Level 0x2A19: one uint8, 0 to 100 % (GATT Specification Supplement, Battery Level).
  const r = parseProfile(`id: t/battery
version: 1.0.0
title: t
transport: serial
serial: { framing: { kind: cobs } }
channels: [{ name: battery, unit: '%', modality: device }]
decode: { builtin: { name: bluetooth-sig/battery-level } }
examples:
  - { name: full, hex: '64', samples: [{ channel: battery, value: 100 }] }
  - { name: empty, hex: '00', samples: [{ channel: battery, value: 0 }] }
  - { name: reserved value, hex: '65', rejected: DECODE_OUT_OF_RANGE }
  - { name: nothing, hex: '', rejected: DECODE_SHORT }
  - { name: too long, hex: '6400', rejected: DECODE_TRAILING }
`, 'b.yaml');
  assert.ok('profile' in r, 'problems' in r ? r.problems.map((p) => p.toLine()).join('\n') : '');
  for (const result of runExamples(r.profile)) assert.ok(result.ok, `${result.example}: ${result.problems.join('; ')}`);
  assert.equal(r.profile.decode(Uint8Array.of(0x2a)).samples[0]!.value, 42);
});
