import { ConditionalCheckFailedException, GetItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CountersUnavailableError } from '../../domain/errors.js';
import type { EventType } from '../../domain/event-schemas.js';
import { counterExpiry, keyPartOf, periodStart, shardOf, type CounterGranularity, type LiveCounterSettings } from '../../domain/live-counters.js';
import type { ApplyOutcome, CounterDelta, LiveCount, LiveCounterStore } from '../../ports/live-counters.js';
import { isClientFault, isThrottled } from './dynamo-errors.js';
import { COUNTERS_TABLE_KEYS, COUNTERS_TTL_ATTRIBUTE } from './tables.js';

const { partitionKey: PK, sortKey: SK } = COUNTERS_TABLE_KEYS;
const PREFIX: Record<CounterGranularity, string> = { minute: 'm', hour: 'h' };
/** Keys a delta adds to one item per mark, and per update: an expression may have 4 KB, each key costs about 16 characters. */
const KEYS_PER_MARK = 100;
/** Marks (new ones and removals) per update, for the same reason. */
const MARKS_PER_UPDATE = 40;
/** Updates in flight at once. */
const CONCURRENT_UPDATES = 16;
/** An update whose marks partly exist already is sent again without them, at most this often. */
const MAX_ATTEMPTS = 4;
/** Marks waiting for removal are kept for this many items per container; beyond it they stay until the TTL. */
const MAX_ITEMS_TO_CLEAN = 10_000;

/** The live counters of a tenant: `live#<tenant>#<shard>`, so a read is one query per shard. */
const partitionOf = (tenantId: string, shard: number) => `live#${tenantId}#${shard}`;
/** A key's count on an item: type and category in the name (a type has no `#`, a category may). */
const COUNT_PREFIX = 'c_';
const countAttribute = (type: string, category: string) => `${COUNT_PREFIX}${type}#${category}`;
/** The attributes of an item besides its counts and marks. */
const ITEM_NAMES = { '#period': 'period', '#expiresAt': COUNTERS_TTL_ATTRIBUTE };

/** One delta's share of one item: up to KEYS_PER_MARK keys, under one mark. */
interface Contribution {
  deltaId: string;
  mark: string;
  counts: Map<string, number>;
}

interface ItemUpdate {
  itemKey: string;
  key: Record<string, AttributeValue>;
  granularity: CounterGranularity;
  period: number;
  contributions: Contribution[];
}

const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');

/**
 * Live counters in the counters table, beside the rate buckets. An item counts one tenant's
 * events of one minute (or hour), on one shard, for a part of its keys: one attribute per type
 * and category. A delta (a delivery's counts) goes to the shard its id picks, so a delivery
 * writes a few items, and a busy tenant's deliveries spread over the shards' partition keys.
 *
 * Idempotent per item without a transaction: the update that adds a delta's counts also writes
 * the delta's mark on the item, on the condition that the mark is not there yet, so a delta
 * given twice (a flush cut off after the write, a lost answer, two flushers) counts once; the
 * counts and the mark change together or not at all. A delta's keys of one item are cut into
 * marks of KEYS_PER_MARK in a fixed order, so every flush of it makes the same marks. Once the
 * outbox has deleted a delta, its marks are removed by the next update of the same item
 * (`forget`), so an hour's item holds a few marks, not one per delivery.
 */
export class DynamoLiveCounters implements LiveCounterStore {
  /** Item key -> the key and the marks of deltas the outbox no longer holds. */
  private readonly toClean = new Map<string, { key: Record<string, AttributeValue>; marks: Set<string> }>();
  /** Delta id -> the items and marks it was applied with, until the outbox deletes it. */
  private readonly appliedTo = new Map<string, Array<{ itemKey: string; key: Record<string, AttributeValue>; mark: string }>>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly settings: LiveCounterSettings,
  ) {}

  async apply(deltas: CounterDelta[]): Promise<ApplyOutcome> {
    const updates = this.updatesOf(deltas);
    // Per delta, the marks still to confirm.
    const unconfirmed = new Map<string, number>();
    for (const update of updates) for (const { deltaId } of update.contributions) unconfirmed.set(deltaId, (unconfirmed.get(deltaId) ?? 0) + 1);
    let failure: unknown;
    const queue = [...updates];
    const worker = async () => {
      for (let update = queue.shift(); update && failure === undefined; update = queue.shift()) {
        try {
          await this.applyUpdate(update);
          for (const { deltaId, mark } of update.contributions) {
            unconfirmed.set(deltaId, (unconfirmed.get(deltaId) ?? 0) - 1);
            const items = this.appliedTo.get(deltaId) ?? [];
            items.push({ itemKey: update.itemKey, key: update.key, mark });
            this.appliedTo.set(deltaId, items);
          }
        } catch (error) {
          failure = error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_UPDATES, updates.length) }, worker));
    const applied = deltas.filter((delta) => (unconfirmed.get(delta.deltaId) ?? 0) === 0).map((delta) => delta.deltaId);
    return failure === undefined ? { applied } : { applied, failure };
  }

  forget(deltaIds: readonly string[]): void {
    for (const deltaId of deltaIds) {
      for (const { itemKey, key, mark } of this.appliedTo.get(deltaId) ?? []) {
        const entry = this.toClean.get(itemKey) ?? { key, marks: new Set<string>() };
        entry.marks.add(mark);
        // Re-inserted: a Map iterates in insertion order, so the first entry is the stalest.
        this.toClean.delete(itemKey);
        this.toClean.set(itemKey, entry);
      }
      this.appliedTo.delete(deltaId);
    }
    for (const itemKey of this.toClean.keys()) {
      if (this.toClean.size <= MAX_ITEMS_TO_CLEAN) break;
      this.toClean.delete(itemKey);
    }
  }

  async read(tenantId: string, granularity: CounterGranularity, from: number, to: number): Promise<LiveCount[]> {
    const prefix = PREFIX[granularity];
    let items: Array<Record<string, AttributeValue>>;
    try {
      const shards = await Promise.all(
        Array.from({ length: this.settings.shards }, (_, shard) => this.queryShard(partitionOf(tenantId, shard), `${prefix}#${new Date(from).toISOString()}`, `${prefix}#${new Date(to).toISOString()}`)),
      );
      items = shards.flat();
    } catch (error) {
      // A missing table or permission is the deployment's bug (a 500); throttling and outages are 503s.
      if (isClientFault(error) && !isThrottled(error)) throw error;
      throw new CountersUnavailableError('The live counters cannot be read right now; retry after the Retry-After delay.');
    }
    // Shards and parts of a period merged.
    const merged = new Map<string, LiveCount>();
    for (const item of items) {
      const minute = item['period']?.S ?? '';
      for (const [name, value] of Object.entries(item)) {
        if (!name.startsWith(COUNT_PREFIX)) continue;
        const separator = name.indexOf('#');
        const count = { minute, type: name.slice(COUNT_PREFIX.length, separator) as EventType, category: name.slice(separator + 1), count: Number(value.N ?? 0) };
        const key = `${minute}\n${name}`;
        const seen = merged.get(key);
        if (seen) seen.count += count.count;
        else merged.set(key, count);
      }
    }
    return [...merged.values()];
  }

  /** Each delta's counts by item (shard from the delta, part from the key), cut into marks, packed into updates. */
  private updatesOf(deltas: CounterDelta[]): ItemUpdate[] {
    const items = new Map<string, Omit<ItemUpdate, 'contributions'> & { byDelta: Map<string, Map<string, number>> }>();
    for (const delta of deltas) {
      const shard = shardOf(delta.deltaId, this.settings.shards);
      for (const count of delta.counts) {
        for (const granularity of ['minute', 'hour'] as const) {
          const period = periodStart(Date.parse(count.minute), granularity);
          const pk = partitionOf(delta.tenantId, shard);
          const sk = `${PREFIX[granularity]}#${new Date(period).toISOString()}#${keyPartOf(count.type, count.category)}`;
          const itemKey = `${pk}\n${sk}`;
          let item = items.get(itemKey);
          if (!item) {
            item = { itemKey, key: { [PK]: { S: pk }, [SK]: { S: sk } }, granularity, period, byDelta: new Map() };
            items.set(itemKey, item);
          }
          const counts = item.byDelta.get(delta.deltaId) ?? new Map<string, number>();
          const attribute = countAttribute(count.type, count.category);
          counts.set(attribute, (counts.get(attribute) ?? 0) + count.count);
          item.byDelta.set(delta.deltaId, counts);
        }
      }
    }
    const updates: ItemUpdate[] = [];
    for (const { byDelta, ...item } of items.values()) {
      const contributions = [...byDelta].flatMap(([deltaId, counts]) => {
        const keys = [...counts.keys()].sort();
        return Array.from({ length: Math.ceil(keys.length / KEYS_PER_MARK) }, (_, chunk) => ({
          deltaId,
          mark: `d_${deltaId}_${chunk}`,
          counts: new Map(keys.slice(chunk * KEYS_PER_MARK, (chunk + 1) * KEYS_PER_MARK).map((key) => [key, counts.get(key) ?? 0])),
        }));
      });
      // Contributions packed while their keys and marks fit one expression.
      let current: Contribution[] = [];
      let keys = new Set<string>();
      for (const contribution of contributions) {
        const union = new Set([...keys, ...contribution.counts.keys()]);
        if (current.length > 0 && (union.size > KEYS_PER_MARK || current.length >= MARKS_PER_UPDATE)) {
          updates.push({ ...item, contributions: current });
          current = [];
          keys = new Set(contribution.counts.keys());
        } else keys = union;
        current.push(contribution);
      }
      if (current.length > 0) updates.push({ ...item, contributions: current });
    }
    return updates;
  }

  /**
   * Adds the contributions whose marks are not on the item yet. When some are (the condition
   * fails), the item's marks say which, and the update goes again without them.
   */
  private async applyUpdate(update: ItemUpdate): Promise<void> {
    let pending = update.contributions;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && pending.length > 0; attempt++) {
      const cleaning = this.toClean.get(update.itemKey);
      const marks = new Set(pending.map((contribution) => contribution.mark));
      const removals = [...(cleaning?.marks ?? [])].filter((mark) => !marks.has(mark)).slice(0, MARKS_PER_UPDATE);
      const sums = new Map<string, number>();
      for (const contribution of pending) for (const [attribute, count] of contribution.counts) sums.set(attribute, (sums.get(attribute) ?? 0) + count);
      const names: Record<string, string> = { ...ITEM_NAMES };
      const values: Record<string, AttributeValue> = {
        ':one': { N: '1' },
        ':period': { S: new Date(update.period).toISOString() },
        ':expiresAt': { N: String(counterExpiry(update.period, update.granularity, this.settings.ttlHours)) },
      };
      pending.forEach((contribution, index) => (names[`#d${index}`] = contribution.mark));
      removals.forEach((mark, index) => (names[`#r${index}`] = mark));
      [...sums].forEach(([attribute, count], index) => {
        names[`#c${index}`] = attribute;
        values[`:c${index}`] = { N: String(count) };
      });
      const setMarks = pending.map((_, index) => `#d${index} = :one`).join(', ');
      const adds = [...sums.keys()].map((_, index) => `#c${index} :c${index}`).join(', ');
      const remove = removals.length > 0 ? ` REMOVE ${removals.map((_, index) => `#r${index}`).join(', ')}` : '';
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: update.key,
            UpdateExpression: `SET #period = :period, #expiresAt = :expiresAt, ${setMarks} ADD ${adds}${remove}`,
            ConditionExpression: pending.map((_, index) => `attribute_not_exists(#d${index})`).join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        for (const mark of removals) cleaning?.marks.delete(mark);
        if (cleaning && cleaning.marks.size === 0) this.toClean.delete(update.itemKey);
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const present = await this.marksOn(update.key, error, [...marks]);
        pending = pending.filter((contribution) => !present.has(contribution.mark));
      }
    }
    if (pending.length > 0) throw new Error(`counter ${update.itemKey} kept refusing its deltas`);
  }

  /** Which of `marks` the item holds: from the failed update's answer, or (dynalite returns none) a read. */
  private async marksOn(key: Record<string, AttributeValue>, failure: unknown, marks: string[]): Promise<Set<string>> {
    let item = (failure as { Item?: Record<string, AttributeValue> }).Item;
    if (!item) {
      const names = Object.fromEntries(marks.map((mark, index) => [`#m${index}`, mark]));
      const read = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }),
      );
      item = read.Item ?? {};
    }
    return new Set(marks.filter((mark) => item[mark] !== undefined));
  }

  private async queryShard(pk: string, low: string, high: string): Promise<Array<Record<string, AttributeValue>>> {
    const items: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          // The upper bound is the first period after the range: its items sort after it.
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: pk }, ':low': { S: low }, ':high': { S: high } },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
