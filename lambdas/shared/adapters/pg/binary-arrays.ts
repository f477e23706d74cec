// Decoders of the binary forms event sets are stored in (migration 0008): big-endian, as
// `int4send` and `float8send` write them. Copied and byte-swapped natively (Buffer.swap32/64):
// a DataView read per value was 4 ms of a 50 ms read (hour x 7, 1M events).

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decoded<T extends Int32Array | Float64Array>(bytes: Uint8Array, values: T): T {
  new Uint8Array(values.buffer).set(bytes.subarray(0, values.byteLength));
  if (LITTLE_ENDIAN) {
    const raw = Buffer.from(values.buffer);
    if (values.BYTES_PER_ELEMENT === 4) raw.swap32();
    else raw.swap64();
  }
  return values;
}

/** int4 big-endian values, as `int4send` writes them. */
export const int4s = (bytes: Uint8Array): Int32Array => decoded(bytes, new Int32Array(bytes.byteLength >> 2));

/** float8 big-endian values, as `float8send` writes them. */
export const float8s = (bytes: Uint8Array): Float64Array => decoded(bytes, new Float64Array(bytes.byteLength >> 3));
