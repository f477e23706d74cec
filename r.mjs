import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create({ dataDir: '/tmp/pgl/data' });
console.log((await db.query('SELECT count(*)::int n, max(id) m FROM t')).rows);
await db.close();
