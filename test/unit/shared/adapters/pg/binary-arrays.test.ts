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

  it('reads values at any offset of the received buffer, negative and fractional ones alike', () => {
    const ints = [-1, 0, 7, -2_147_483_648, 123_456_789];
    const doubles = [-0.5, 1e-300, 3.14159, -1e308, 0.001];
    // One byte in: a bytea decoded from hex starts wherever the pool put it.
    const intBytes = new Uint8Array(1 + ints.length * 4);
    const doubleBytes = new Uint8Array(1 + doubles.length * 8);
    ints.forEach((value, index) => new DataView(intBytes.buffer).setInt32(1 + index * 4, value));
    doubles.forEach((value, index) => new DataView(doubleBytes.buffer).setFloat64(1 + index * 8, value));

    expect([...int4s(intBytes.subarray(1))]).toEqual(ints);
    expect([...float8s(doubleBytes.subarray(1))]).toEqual(doubles);
    expect([...int4s(new Uint8Array(0))]).toEqual([]);
  });
});
