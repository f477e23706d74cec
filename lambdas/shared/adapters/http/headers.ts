/** A request header by its lower-case name, however the client spelled it (API Gateway passes names as sent). */
export function headerValue(event: { headers?: Record<string, string | undefined> | null }, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}
