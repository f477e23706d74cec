/** The first days (`YYYY-MM-01`, UTC) of the month of `from` and the `ahead` months after it. */
export function monthsAhead(from: Date, ahead: number): string[] {
  return Array.from({ length: ahead + 1 }, (_, offset) => {
    const first = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + offset, 1));
    return first.toISOString().slice(0, 10);
  });
}

/** The first day of the UTC month of an ISO timestamp. */
export const monthOf = (isoTimestamp: string): string => `${new Date(isoTimestamp).toISOString().slice(0, 7)}-01`;
