/**
 * Upload overhead (DESIGN.md §5): 20 files × 5 MB through the upload machine and the Supabase
 * adapter (tus-js-client against the resumable endpoint) vs. bare tus-js-client sending the same
 * bytes to the same local server (`startLocalSupabase` over PGlite, on loopback).
 *
 * Machine: ADD_FILES → START from idle, timed until the database confirms `completed`: two RPCs
 * (create_upload_draft with the 20 files and start_upload, then finalize_upload) and the 20 tus
 * uploads at the machine's default concurrency of 3, `resumableThreshold: 0` so every file goes
 * through tus. The RPCs per entity are counted and reported (target: 2).
 * Bare: the same 20 uploads with tus-js-client and the adapter's tus options (6 MB chunks, data
 * sent with the creation request, the same headers and metadata), 3 at a time. The storage
 * server only accepts objects of registered files, so the entity and its 20 file rows are created
 * first, untimed: the bare figure is bytes only, the machine figure includes the whole lifecycle.
 * Each timing gets a fresh server and byte directory (removed after), outside the timing. The
 * server side — the stand-in and its database — runs in a child process (bench/upload-server.ts),
 * as Supabase runs apart from its clients: the bench process holds only the client, so the timer
 * measures the client and the wire rather than the server's work and garbage on the same event
 * loop. `--in-process` runs it in the bench process instead, as before. Apart, the bytes move
 * faster (less shared), so the lifecycle's fixed cost — the two RPCs — weighs more in the ratio.
 * The three paths run in all six orders in turn, so none always follows another.
 *
 * By hand: the lifecycle without the machine — the same RPCs called directly and bare tus, timed
 * end to end — so machine / by hand is the machine's own cost and by hand / bare the lifecycle's.
 *
 * Where: the stand-in over PGlite (the embedded default; its SQL runs in WebAssembly on one thread,
 * so the RPCs and the stand-in's object rows queue behind each other) and, with DATABASE_URL, over
 * PostgreSQL 15 (native, a connection pool: what a Supabase project runs). Same code, same bytes.
 *
 * Figures: machine throughput / bare throughput (target ≥ 0.95), machine / by hand, by hand / bare
 * (the lifecycle's own ceiling: no client can beat its two RPCs), the two RPCs' milliseconds as the
 * client waits, and MB/s; each with its rounds' spread and the 90 % interval of its median.
 * `npx tsx bench/upload.ts [--quick] [--in-process]` (`BENCH_ROUNDS=1` prints every round's MB/s);
 * also a `Section` for bench/run.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tus from 'tus-js-client';
import { createActor, waitFor } from 'xstate';
import { figure, median, type BenchContext, type Figure, type Section } from './lib.js';
import { serverHost, type ServerHost, type ServerRequest, type Started } from './upload-server.js';
import type { Backend, RegisteredFile } from '../src/adapters/backend.js';
import { createSupabaseBackend, SUPABASE_TUS_CHUNK_SIZE } from '../src/adapters/supabase.js';
import { createUploadMachine } from '../src/machines/upload.js';
import { selectIsBusy, selectPhase } from '../src/machines/upload-selectors.js';
import { localClient } from '../test/support/local-client.js';

const MB = 1024 * 1024;
const CONCURRENCY = 3; // the machine's default
const MIME = 'application/pdf';

/** Where the server side runs (bench/upload-server.ts), and whether that is this process. */
type Host = ServerHost & { inProcess: boolean };

/** The stand-in in this process (`--in-process`): client and server share one event loop. */
async function inProcessHost(database: 'pglite' | 'postgres', count: number): Promise<Host> {
  return { ...(await serverHost(database, count, 8 * MB, MIME)), inProcess: true };
}

/** The stand-in and its database in a child process (bench/upload-server.ts), as in a deployment. */
export async function childHost(database: 'pglite' | 'postgres', count: number): Promise<Host> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./upload-server.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_UPLOAD_SERVER: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const request = <T>(message: ServerRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`the bench server exited (${code}) during ${message.op}`));
      child.once('exit', onExit);
      child.once('message', (answer: { ok: boolean; value?: T; error?: string }) => {
        child.off('exit', onExit);
        if (answer.ok) resolve(answer.value as T);
        else reject(new Error(`bench server, ${message.op}: ${answer.error}`));
      });
      child.send(message);
    });
  const { userId, kind } = await request<{ userId: string; kind: string }>({
    op: 'init',
    database,
    count,
    maxBytes: 8 * MB,
    mime: MIME,
  });
  return {
    inProcess: false,
    userId,
    kind,
    start: () => request<Started>({ op: 'start' }),
    stop: () => request<void>({ op: 'stop' }),
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await request<void>({ op: 'exit' });
      await exited;
    },
  };
}

export function supabaseFor(server: Started) {
  return localClient(server.url, server.anonKey, server.token);
}

function bodies(count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const b = new Uint8Array(size);
    for (let j = 0; j < size; j += 4096) b[j] = (i * 31 + j) & 0xff;
    return b;
  });
}

/** RPCs the machine made for its last entity (every Backend call but the byte transfers). */
let machineRpcs = 0;

/**
 * The by-hand path's two RPCs (create with every file, finalize), in milliseconds per entity as
 * the client waits for them: the lifecycle's fixed cost, which no client can make smaller.
 */
const handRpcMs: number[] = [];

/** Milliseconds for the whole lifecycle through the machine. */
async function viaMachine(host: Host, files: Uint8Array[]): Promise<number> {
  const server = await host.start();
  try {
    const adapter = createSupabaseBackend(supabaseFor(server), { resumableThreshold: 0 });
    let rpcs = 0;
    const backend = Object.fromEntries(
      Object.entries(adapter).map(([name, value]) => [
        name,
        typeof value === 'function' && name !== 'uploadObject'
          ? (...args: unknown[]) => {
              rpcs++;
              return (value as (...a: unknown[]) => unknown).apply(adapter, args);
            }
          : value,
      ]),
    ) as unknown as Backend;
    const machine = createUploadMachine({ backend });
    const actor = createActor(machine, {
      input: { kind: host.kind, concurrency: CONCURRENCY, metadata: { bench: true } },
    }).start();
    const started = performance.now();
    actor.send({
      type: 'ADD_FILES',
      files: files.map((body, i) => ({ slot: 'document', body, name: `f${i}.pdf`, type: MIME })),
    });
    actor.send({ type: 'START' });
    const done = await waitFor(actor, (s) => selectPhase(s) === 'completed' || !selectIsBusy(s), {
      timeout: 300_000,
    });
    const ms = performance.now() - started;
    if (selectPhase(done) !== 'completed')
      throw new Error(`machine upload ended ${selectPhase(done)}: ${JSON.stringify(done.context.error)}`);
    actor.stop();
    machineRpcs = rpcs;
    return ms;
  } finally {
    await host.stop();
  }
}

/** One object by bare tus-js-client, with the adapter's tus options. */
function tusSend(
  server: Started,
  target: { bucketId: string; objectPath: string },
  body: Uint8Array,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A view of the bytes, as the adapter sends them (`Buffer.from(uint8Array)` would copy them).
    const upload = new tus.Upload(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      endpoint: `${server.url}/storage/v1/upload/resumable`,
      uploadSize: body.length,
      chunkSize: SUPABASE_TUS_CHUNK_SIZE,
      retryDelays: null,
      uploadDataDuringCreation: true,
      headers: {
        authorization: `Bearer ${server.token}`,
        apikey: server.anonKey,
        'x-upsert': 'false',
      },
      metadata: {
        bucketName: target.bucketId,
        objectName: target.objectPath,
        contentType: MIME,
        cacheControl: '3600',
      },
      onSuccess: () => resolve(),
      onError: reject,
    });
    upload.start();
  });
}

/** Runs `work(i)` for i in 0…n-1, `CONCURRENCY` at a time. */
async function pooled(n: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

/**
 * Milliseconds for the same bytes by bare tus-js-client. `byHand: false`: the entity and its file
 * rows are made first, untimed (bytes only). `byHand: true`: the same RPCs as the machine, called
 * directly and timed (create+start with every file, the uploads 3 at a time, finalize) — the
 * lifecycle without the machine, to tell the machine's own cost from the lifecycle's.
 */
async function viaBareTus(host: Host, files: Uint8Array[], byHand: boolean): Promise<number> {
  const { kind } = host;
  const server = await host.start();
  try {
    const backend = createSupabaseBackend(supabaseFor(server), { resumableThreshold: 0 });
    const register = (entityId: string, i: number) =>
      backend.registerFile(entityId, {
        slot: 'document',
        filename: `f${i}.pdf`,
        size: files[i]!.length,
        mime: MIME,
      });
    let started = performance.now();
    if (byHand) {
      const registrations = files.map((body, i) => ({
        key: `f${i}`,
        slot: 'document',
        filename: `f${i}.pdf`,
        size: body.length,
        mime: MIME,
      }));
      const state = await backend.createDraft({ kind, startUpload: true, files: registrations });
      const created = performance.now();
      await pooled(files.length, (i) => tusSend(server, state.files[i]!, files[i]!));
      const transferred = performance.now();
      const done = await backend.finalizeUpload(state.entityId);
      const finished = performance.now();
      if (done.status !== 'completed') throw new Error(`by-hand lifecycle ended ${done.status}`);
      handRpcMs.push(created - started + (finished - transferred));
      return finished - started;
    }
    const draft = await backend.createDraft({ kind, startUpload: true });
    const targets: RegisteredFile[] = [];
    for (let i = 0; i < files.length; i++) targets.push(await register(draft.entityId, i));
    started = performance.now();
    await pooled(files.length, (i) => tusSend(server, targets[i]!, files[i]!));
    const ms = performance.now() - started;
    const state = await backend.getUploadState(draft.entityId);
    const stored = state.files.filter((f) => f.objectExists).length;
    if (stored !== files.length) throw new Error(`bare tus stored ${stored} of ${files.length} objects`);
    await backend.finalizeUpload(draft.entityId); // untimed: leaves no unfinished entity behind
    return ms;
  } finally {
    await host.stop();
  }
}

/** How many files, how big, how many rounds: set by `--quick`. */
function shape(ctx: BenchContext): { count: number; size: number; rounds: number } {
  return ctx.quick
    ? { count: 4, size: 1 * MB, rounds: 2 }
    : // A round moves 100 MB in ~0.5 s: single rounds swing (0.5–1.7 for the same paths on this
      // shared two-core machine), so many rounds, alternating order; with 24 the median's 90 %
      // interval was about ±0.05 wide, as wide as the distance to the target, so 48.
      { count: 20, size: 5 * MB, rounds: 48 };
}

/** The figures on one database behind the local stand-in: PGlite (the embedded default) or PostgreSQL. */
async function onDatabase(ctx: BenchContext, host: Host, where: string): Promise<Figure[]> {
  const { count, size, rounds } = shape(ctx);
  const files = bodies(count, size);
  const totalMb = (count * size) / MB;
  // Warm-up at full size (JIT, plans, connection setup, the first big buffers), untimed: without
  // it the first measured round of whichever path goes first is an outlier.
  await viaMachine(host, files);
  await viaBareTus(host, files, false);
  await viaBareTus(host, files, true);
  // The three paths in every order in turn (6 orders), so none always follows another: the path
  // right after a given one inherits its garbage and its server's teardown.
  const machineMs: number[] = [];
  const handMs: number[] = [];
  const bareMs: number[] = [];
  const paths = [
    async () => machineMs.push(1 / (await viaMachine(host, files))),
    async () => handMs.push(1 / (await viaBareTus(host, files, true))),
    async () => bareMs.push(1 / (await viaBareTus(host, files, false))),
  ];
  const orders = [
    [0, 1, 2],
    [2, 0, 1],
    [1, 2, 0],
    [0, 2, 1],
    [1, 0, 2],
    [2, 1, 0],
  ];
  for (let i = 0; i < rounds; i++) for (const p of orders[i % orders.length]!) await paths[p]!();
  const ratios = machineMs.map((m, i) => m / bareMs[i]!);
  const mbps = (inverseMs: number[]) => inverseMs.map((x) => totalMb * x * 1000);
  const machineVsHand = machineMs.map((m, i) => m / handMs[i]!);
  const handVsBare = handMs.map((h, i) => h / bareMs[i]!);
  const rpcMs = handRpcMs.splice(0).slice(-rounds);
  ctx.log(
    `${where}, ${count} × ${size / MB} MB: machine ${median(mbps(machineMs)).toFixed(0)} MB/s, by hand ${median(mbps(handMs)).toFixed(0)} MB/s, bare tus ${median(mbps(bareMs)).toFixed(0)} MB/s (ratios ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
  );
  if (process.env.BENCH_ROUNDS === '1')
    for (const [name, xs] of [
      ['machine', machineMs],
      ['by hand', handMs],
      ['bare', bareMs],
    ] as const)
      ctx.log(
        `${where} ${name} MB/s: ${mbps(xs)
          .map((x) => x.toFixed(0))
          .join(' ')}`,
      );
  const label = `${count} × ${size / MB} MB`;
  const on = where === 'PGlite' ? '' : `, ${where}`;
  // The geometric mean is the average that suits ratios; the target stays on the median.
  const geomean = Math.exp(ratios.reduce((t, r) => t + Math.log(r), 0) / ratios.length);
  ctx.log(
    `${where}: ratio median ${median(ratios).toFixed(3)}, geometric mean ${geomean.toFixed(3)}; by hand / bare ${median(handVsBare).toFixed(3)} (the RPCs alone: ${median(rpcMs).toFixed(1)} ms per entity)`,
  );
  return [
    figure(
      `upload throughput machine+adapter / bare tus (${label}${on})`,
      ratios,
      'ratio',
      { op: '>=', value: 0.95 },
      `stand-in over ${where}${host.inProcess ? ' in the bench process' : ' in its own process'}; machine timing includes create+start with ${count} files and finalize; bare: bytes only; geometric mean of the rounds ${geomean.toFixed(3)}`,
    ),
    ...(where.startsWith('PGlite')
      ? [
          figure(
            `RPCs per entity through the machine (${count} files)`,
            [machineRpcs],
            'calls',
            { op: '<=', value: 2 },
            'create_upload_draft(files, start_upload) + finalize_upload; transfers not counted',
          ),
        ]
      : []),
    figure(
      `upload throughput machine+adapter / same RPCs + tus by hand (${label}${on})`,
      machineVsHand,
      'ratio',
      undefined,
      'the machine’s own cost: both run the whole lifecycle, 3 files at a time',
    ),
    figure(
      `upload throughput same RPCs + tus by hand / bare tus (${label}${on})`,
      handVsBare,
      'ratio',
      undefined,
      'the lifecycle without the machine: what its two RPCs leave of bare tus, the ceiling of the machine’s ratio',
    ),
    figure(
      `create_upload_draft (${count} files) + finalize_upload as the client waits (${on ? where : 'PGlite'})`,
      rpcMs,
      'ms',
      undefined,
      'by hand, per entity: HTTP, the stand-in and the database’s SQL',
    ),
    figure(`upload throughput through the machine (${label}${on})`, mbps(machineMs), 'MB/s'),
    figure(`upload throughput by hand: RPCs + tus (${label}${on})`, mbps(handMs), 'MB/s'),
    figure(`upload throughput bare tus-js-client (${label}${on})`, mbps(bareMs), 'MB/s'),
  ];
}

/**
 * On PGlite (the embedded default: its SQL runs in WebAssembly, single-threaded, so every RPC and
 * every object row of the stand-in queue on one thread) and, with DATABASE_URL, on PostgreSQL 15
 * (native, a pool of connections: what a Supabase project runs). The server side runs in a child
 * process, as it does in a deployment; `inProcess: true` (`--in-process`) keeps it in this one, the
 * way the bench ran before (client and server then share one event loop and one heap).
 */
export function uploadSection(options: { inProcess?: boolean } = {}): Section {
  const hostFor = options.inProcess ? inProcessHost : childHost;
  return async (ctx: BenchContext): Promise<Figure[]> => {
    const figures: Figure[] = [];
    const { count } = shape(ctx);
    const suffix = options.inProcess ? ', in one process' : '';
    const lite = await hostFor('pglite', count);
    try {
      figures.push(...(await onDatabase(ctx, lite, `PGlite${suffix}`)));
    } finally {
      await lite.close();
    }
    if (!ctx.databaseUrl) {
      ctx.log('upload on PostgreSQL: skipped (DATABASE_URL not set)');
      return figures;
    }
    const pg = await hostFor('postgres', count);
    try {
      figures.push(...(await onDatabase(ctx, pg, `PostgreSQL 15${suffix}`)));
    } finally {
      await pg.close();
    }
    return figures;
  };
}

export const upload: Section = uploadSection();

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await uploadSection({ inProcess: process.argv.includes('--in-process') })({
    quick: process.argv.includes('--quick'),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}
