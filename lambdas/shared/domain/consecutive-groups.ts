/**
 * Splits items, in order, into consecutive groups of at most `maxCount` items whose weights
 * add up to at most `maxWeight`; an item heavier than `maxWeight` makes a group of its own.
 */
export function consecutiveGroups<T>(items: readonly T[], weightOf: (item: T) => number, maxWeight: number, maxCount = Infinity): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let weight = 0;
  for (const item of items) {
    if (current.length === maxCount || (current.length > 0 && weight + weightOf(item) > maxWeight)) {
      groups.push(current);
      current = [];
      weight = 0;
    }
    current.push(item);
    weight += weightOf(item);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
