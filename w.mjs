import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create({ dataDir: '/tmp/pgl/data' });
await db.exec('CREATE TABLE IF NOT EXISTS t (id serial primary key, v text)');
let n = 0;
for (;;) { await db.query('INSERT INTO t (v) VALUES ($1)', ['x'.repeat(1000)]); n++; process.stdout.write(n + '\n'); }
