// The plan format is defined twice: lib/plan.ts writes it and native/plan.h reads it.
// This test parses the C++ header and checks that every constant and enum matches.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import * as plan from '../lib/plan';

const HEADER = fs.readFileSync(path.join(__dirname, '..', 'native', 'plan.h'), 'utf8');

/** Reads `enum class Name : int32_t { A = 1, B = 2 }` from the header as { A: 1, B: 2 }. */
function headerEnum(name: string): Record<string, number> {
  const match = new RegExp(`enum class ${name}\\s*:\\s*int32_t\\s*\\{([^}]*)\\}`).exec(HEADER);
  assert.ok(match, `native/plan.h has no enum class ${name}`);
  const members: Record<string, number> = {};
  for (const entry of match[1].replace(/\/\/[^\n]*/g, '').split(',')) {
    const pair = /^\s*(\w+)\s*=\s*(-?\d+)\s*$/.exec(entry);
    if (pair) members[pair[1]] = Number(pair[2]);
  }
  return members;
}

/** Returns the name-to-value members of a TypeScript numeric enum, without its reverse mapping. */
function scriptEnum(values: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => typeof value === 'number')) as Record<string, number>;
}

function headerConstant(name: string): number {
  const match = new RegExp(`constexpr \\w+ ${name} = (0x[0-9a-fA-F]+|\\d+);`).exec(HEADER);
  assert.ok(match, `native/plan.h has no constant ${name}`);
  return Number(match[1]);
}

test('plan constants match native/plan.h', () => {
  assert.is(plan.PLAN_MAGIC, headerConstant('kPlanMagic'));
  assert.is(plan.PLAN_VERSION, headerConstant('kPlanVersion'));
  assert.is(plan.MAX_RANK, headerConstant('kMaxRank'));
});

const ENUMS: Array<[string, Record<string, string | number>]> = [
  ['OpType', plan.OpType],
  ['Activation', plan.Activation],
  ['BinaryKind', plan.BinaryKind],
  ['UnaryKind', plan.UnaryKind],
  ['PadMode', plan.PadMode],
  ['PoolKind', plan.PoolKind],
  ['ResizeMode', plan.ResizeMode],
  ['ResizeCoordinates', plan.ResizeCoordinates],
];

for (const [name, values] of ENUMS) {
  test(`enum ${name} matches native/plan.h`, () => {
    const members = headerEnum(name);
    assert.ok(Object.keys(members).length > 1, `parsed ${JSON.stringify(members)}`);
    assert.equal(scriptEnum(values), members);
  });
}

test.run();
