import { parseArgs } from 'node:util';
import { DataDirInUseError } from '../lambdas/shared/adapters/local/data-dir-lock.js';
import { PgMessageQueue, type DeadLetter } from '../lambdas/shared/adapters/pg/pg-message-queue.js';
import { ConfigError, loadLocalConfig } from '../lambdas/shared/config.js';
import { readMessage } from '../lambdas/shared/domain/queue-messages.js';
import { withLocalDatabase } from './local-runtime/local-database.js';

const USAGE = `npm run dlq -- list [--limit 100]       the local queue's dead letters, oldest first
npm run dlq -- replay --all              put every dead letter back on the queue
npm run dlq -- replay --id <messageId>   put these back (--id may repeat)
Same DATA_DIR / DATABASE_URL as the server. On PGlite, stop the server first (it holds DATA_DIR).`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One line per dead letter: what it is, whose, and why it died; the body stays in the table. */
function describe(letter: DeadLetter): string {
  const message = readMessage(letter.body);
  const what = typeof message === 'string'
    ? `unreadable: ${message}`
    : `tenant ${message.header.tenantId}, request ${message.header.requestId}, ${message.rows.split('\n').length - 1} events`;
  return `${letter.messageId}  sent ${letter.sentAt.toISOString()}  dead ${letter.deadLetteredAt.toISOString()}  receives ${letter.receiveCount}  ${what}  (${letter.reason})`;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { limit: { type: 'string', default: '100' }, id: { type: 'string', multiple: true }, all: { type: 'boolean', default: false } },
  });
  const [command] = positionals;
  const limit = Number(values.limit);
  if (positionals.length !== 1 || (command !== 'list' && command !== 'replay')) throw new UsageError(USAGE);
  if (command === 'list' && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit: must be a positive integer\n${USAGE}`);
  if (command === 'replay' && values.all === Boolean(values.id)) throw new UsageError(`replay needs --all or --id, not both\n${USAGE}`);
  const badIds = (values.id ?? []).filter((id) => !UUID.test(id));
  if (badIds.length > 0) throw new UsageError(`--id: not a message id (a UUID): ${badIds.join(', ')}`);

  await withLocalDatabase(loadLocalConfig(), 1, async (db, embedded) => {
    const queue = await PgMessageQueue.open(db);
    if (command === 'list') {
      const letters = await queue.listDeadLetters(limit);
      const { deadLetters } = await queue.depth();
      for (const letter of letters) console.log(describe(letter));
      console.log(`${deadLetters} dead letter${deadLetters === 1 ? '' : 's'}${deadLetters > letters.length ? `, ${letters.length} shown` : ''}`);
    } else {
      const moved = await queue.replayDeadLetters(values.all ? undefined : values.id);
      const missing = (values.id ?? []).filter((id) => !moved.includes(id));
      console.log(`${moved.length} put back on the queue; the server delivers them${embedded ? ' when it starts' : ' within a second'}.`);
      if (missing.length > 0) console.log(`Not dead letters (already replayed, delivered, or unknown): ${missing.join(', ')}`);
    }
  });
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof UsageError;
  console.error(known ? error.message : error);
  process.exit(known && error instanceof UsageError ? 2 : 1);
});
