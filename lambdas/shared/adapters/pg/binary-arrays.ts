// Decoders of the binary forms event sets are stored in (migration 0008).

/** int4 big-endian values, as `int4send` writes them. */
export function int4s(bytes: Uint8Array): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Int32Array(bytes.byteLength >> 2);
  for (let index = 0; index < values.length; index++) values[index] = view.getInt32(index * 4);
  return values;
}

/** float8 big-endian values, as `float8send` writes them. */
export function float8s(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.byteLength >> 3);
  for (let index = 0; index < values.length; index++) values[index] = view.getFloat64(index * 8);
  return values;
}

