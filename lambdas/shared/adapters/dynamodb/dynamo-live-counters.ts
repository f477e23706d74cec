import { ConditionalCheckFailedException, GetItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CountersUnavailableError } from '../../domain/errors.js';
import type { EventType } from '../../domain/event-schemas.js';
import { counterExpiry, periodStart, shardOf, type CounterGranularity, type LiveCounterSettings } from '../../domain/live-counters.js';
import type { ApplyOutcome, CounterDelta, LiveCount, LiveCounterStore } from '../../ports/live-counters.js';
import { isClientFault, isThrottled } from './dynamo-errors.js';
import { COUNTERS_TABLE_KEYS, COUNTERS_TTL_ATTRIBUTE } from './tables.js';

const { partitionKey: PK, sortKey: SK } = COUNTERS_TABLE_KEYS;
const PREFIX: Record<CounterGranularity, string> = { minute: 'm', hour: 'h' };
/** Marks (and removals) per update: each costs about 40 characters of the 4 KB an expression may have. */
const MARKS_PER_UPDATE = 40;
/** Updates in flight at once: a flush of 1,000 keys should not take 2,000 round trips one by one. */
const CONCURRENT_UPDATES = 16;
/** An update whose marks partly exist already is sent again without them, at most this often. */
const MAX_ATTEMPTS = 4;
/** Marks waiting for removal are kept for this many items per container; beyond it they stay until the TTL. */
const MAX_ITEMS_TO_CLEAN = 10_000;

/** A counter's attributes besides its marks; by name, since DynamoDB reserves words such as these. */
const COUNTER_NAMES = { '#type': 'eventType', '#category': 'category', '#period': 'period', '#expiresAt': COUNTERS_TTL_ATTRIBUTE, '#n': 'n' };

/** The live counters of a tenant: `live#<tenant>#<shard>`, so a read is one query per shard. */
const partitionOf = (tenantId: string, shard: number) => `live#${tenantId}#${shard}`;
/** A delta's mark on a counter: an attribute named after it, so a second application finds it. */
const markOf = (deltaId: string) => `d_${deltaId}`;

interface CounterUpdate {
  itemKey: string;
  key: Record<string, AttributeValue>;
  granularity: CounterGranularity;
  period: number;
  type: string;
  category: string;
  deltas: Array<{ deltaId: string; count: number }>;
}

const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');

/**
 * Live counters in the counters table, beside the rate buckets. Every delta adds to its minute
 * and its hour counter on the shard its id picks. Idempotent per counter item without a
 * transaction: the update that adds a delta also writes the delta's mark on the item, on the
 * condition that the mark is not there yet, so a delta given twice (a flush cut off after the
 * write, a lost answer, two flushers) is counted once; the item and its marks change together
 * or not at all. Deltas of one flush that share an item are one update. Once the outbox has
 * deleted a delta, its marks are removed by the next update of the same item (`forget`), so a
 * busy hour counter holds a few dozen marks, not one per delivery.
 */
export class DynamoLiveCounters implements LiveCounterStore {
  /** Item key -> the key and the marks of deltas the outbox no longer holds. */
  private readonly toClean = new Map<string, { key: Record<string, AttributeValue>; marks: Set<string> }>();
  /** Delta id -> the items it was applied to, until the outbox deletes it. */
  private readonly appliedTo = new Map<string, Array<{ itemKey: string; key: Record<string, AttributeValue> }>>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly settings: LiveCounterSettings,
  ) {}

  async apply(deltas: CounterDelta[]): Promise<ApplyOutcome> {
    const updates = this.updatesOf(deltas);
    const confirmed = new Map<string, number>();
    let failure: unknown;
    const queue = [...updates];
    const worker = async () => {
      for (let update = queue.shift(); update && failure === undefined; update = queue.shift()) {
        try {
          await this.applyUpdate(update);
          for (const { deltaId } of update.deltas) {
            confirmed.set(deltaId, (confirmed.get(deltaId) ?? 0) + 1);
            const items = this.appliedTo.get(deltaId) ?? [];
            items.push({ itemKey: update.itemKey, key: update.key });
            this.appliedTo.set(deltaId, items);
          }
        } catch (error) {
          failure = error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_UPDATES, updates.length) }, worker));
    // Done: both of its counters (minute and hour) hold the delta.
    const applied = deltas.filter((delta) => confirmed.get(delta.deltaId) === 2).map((delta) => delta.deltaId);
    return failure === undefined ? { applied } : { applied, failure };
  }

  forget(deltaIds: readonly string[]): void {
    for (const deltaId of deltaIds) {
      for (const { itemKey, key } of this.appliedTo.get(deltaId) ?? []) {
        const entry = this.toClean.get(itemKey) ?? { key, marks: new Set<string>() };
        entry.marks.add(markOf(deltaId));
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
    try {
      const shards = await Promise.all(
        Array.from({ length: this.settings.shards }, (_, shard) => this.queryShard(partitionOf(tenantId, shard), `${prefix}#${new Date(from).toISOString()}`, `${prefix}#${new Date(to).toISOString()}`)),
      );
      const merged = new Map<string, LiveCount>();
      for (const count of shards.flat()) {
        const key = `${count.minute}\n${count.type}\n${count.category}`;
        const seen = merged.get(key);
        if (seen) seen.count += count.count;
        else merged.set(key, { ...count });
      }
      return [...merged.values()];
    } catch (error) {
      // A missing table or permission is the deployment's bug (a 500); throttling and outages are 503s.
      if (isClientFault(error) && !isThrottled(error)) throw error;
      throw new CountersUnavailableError('The live counters cannot be read right now; retry after the Retry-After delay.');
    }
  }

  /** One update per counter item and up to MARKS_PER_UPDATE of its deltas. */
  private updatesOf(deltas: CounterDelta[]): CounterUpdate[] {
    const updates = new Map<string, CounterUpdate>();
    for (const delta of deltas) {
      const shard = shardOf(delta.deltaId, this.settings.shards);
      for (const granularity of ['minute', 'hour'] as const) {
        const period = periodStart(Date.parse(delta.minute), granularity);
        const pk = partitionOf(delta.tenantId, shard);
        const sk = `${PREFIX[granularity]}#${new Date(period).toISOString()}#${delta.type}#${delta.category}`;
        const itemKey = `${pk}\n${sk}`;
        let update = updates.get(itemKey);
        if (!update) {
          update = { itemKey, key: { [PK]: { S: pk }, [SK]: { S: sk } }, granularity, period, type: delta.type, category: delta.category, deltas: [] };
          updates.set(itemKey, update);
        }
        update.deltas.push({ deltaId: delta.deltaId, count: delta.count });
      }
    }
    return [...updates.values()].flatMap((update) =>
      Array.from({ length: Math.ceil(update.deltas.length / MARKS_PER_UPDATE) }, (_, chunk) => ({ ...update, deltas: update.deltas.slice(chunk * MARKS_PER_UPDATE, (chunk + 1) * MARKS_PER_UPDATE) })),
    );
  }

  /**
   * Adds the deltas that are not on the item yet. When some are (the condition fails), the
   * item's marks say which, and the update goes again without them.
   */
  private async applyUpdate(update: CounterUpdate): Promise<void> {
    let pending = update.deltas;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && pending.length > 0; attempt++) {
      const cleaning = this.toClean.get(update.itemKey);
      const removals = [...(cleaning?.marks ?? [])].filter((mark) => !pending.some((delta) => markOf(delta.deltaId) === mark)).slice(0, MARKS_PER_UPDATE);
      const names: Record<string, string> = { ...COUNTER_NAMES };
      const values: Record<string, AttributeValue> = {
        ':sum': { N: String(pending.reduce((sum, delta) => sum + delta.count, 0)) },
        ':one': { N: '1' },
        ':type': { S: update.type },
        ':category': { S: update.category },
        ':period': { S: new Date(update.period).toISOString() },
        ':expiresAt': { N: String(counterExpiry(update.period, update.granularity, this.settings.ttlHours)) },
      };
      pending.forEach((delta, index) => (names[`#d${index}`] = markOf(delta.deltaId)));
      removals.forEach((mark, index) => (names[`#r${index}`] = mark));
      const marks = pending.map((_, index) => `#d${index} = :one`).join(', ');
      const remove = removals.length > 0 ? ` REMOVE ${removals.map((_, index) => `#r${index}`).join(', ')}` : '';
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: update.key,
            UpdateExpression: `SET #type = :type, #category = :category, #period = :period, #expiresAt = :expiresAt, ${marks} ADD #n :sum${remove}`,
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
        const present = await this.marksOn(update.key, error, pending.map((delta) => markOf(delta.deltaId)));
        pending = pending.filter((delta) => !present.has(markOf(delta.deltaId)));
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

  private async queryShard(pk: string, low: string, high: string): Promise<LiveCount[]> {
    const counts: LiveCount[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          // The upper bound is the first period after the range: its items sort after it.
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
          ProjectionExpression: '#period, #type, #category, #n',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#period': 'period', '#type': 'eventType', '#category': 'category', '#n': 'n' },
          ExpressionAttributeValues: { ':pk': { S: pk }, ':low': { S: low }, ':high': { S: high } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        // Written by `apply` from the types of stored events.
        counts.push({ minute: item['period']?.S ?? '', type: (item['eventType']?.S ?? '') as EventType, category: item['category']?.S ?? '', count: Number(item['n']?.N ?? 0) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return counts;
  }
}

