// A worker thread of the property runner: one shard on its own PGlite, the result posted back.
import { parentPort, workerData } from 'node:worker_threads';
import { createPropertyDb } from './harness.js';
import { runShard, type ShardSettings } from './runner.js';

const db = await createPropertyDb();
try {
  parentPort!.postMessage(await runShard(db, workerData as ShardSettings));
} catch (error) {
  parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
} finally {
  await db.close();
}
