/**
 * `key=value` as a property filter: the value is JSON when it reads as JSON (`2`, `true`,
 * `"2"`, `{"tier":2}`), else the text itself, so `plan=pro` means the string "pro".
 */
export function propertyFilter(pairs: string[]): Record<string, unknown> | undefined {
  const properties: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const value = pair.slice(at + 1);
    try {
      properties[pair.slice(0, at)] = JSON.parse(value);
    } catch {
      properties[pair.slice(0, at)] = value;
    }
  }
  return Object.keys(properties).length > 0 ? properties : undefined;
}
