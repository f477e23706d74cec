import { describe, expect, it } from 'vitest';
import { float8s, int4s } from '../../../../../lambdas/shared/adapters/pg/binary-arrays.js';

describe('big-endian decoding', () => {
  it('reads int4send and float8send output', () => {
    const bytes = new Uint8Array([0, 0, 0, 1, 0, 1, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    expect([...int4s(bytes)]).toEqual([1, 65_536, 2_147_483_647]);
    const doubles = new Uint8Array(16);
    new DataView(doubles.buffer).setFloat64(0, 12.5);
    new DataView(doubles.buffer).setFloat64(8, -0.001);
    expect([...float8s(doubles.subarray(0, 16))]).toEqual([12.5, -0.001]);
  });
});
