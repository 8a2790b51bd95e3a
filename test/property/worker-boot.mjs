// Boots a property worker thread: TypeScript through tsx's loader (worker threads take no
// `--import`), then the shard of test/property/worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
