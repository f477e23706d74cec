/** A property path whose filter value is an array: containment alone would also match supersets. */
export interface ExactPath {
  path: string[];
  value: unknown;
}

/**
 * JSON containment (`@>`) is equality for scalars and a subset match for objects (filter on
 * some nested keys, as asked), but for arrays it also matches longer arrays. The paths of
 * array values are returned so the query can also require them to be equal.
 */
export function arrayPaths(filter: Record<string, unknown>, prefix: string[] = []): ExactPath[] {
  return Object.entries(filter).flatMap(([key, value]) => {
    const path = [...prefix, key];
    if (Array.isArray(value)) return [{ path, value }];
    if (value !== null && typeof value === 'object') return arrayPaths(value as Record<string, unknown>, path);
    return [];
  });
}
