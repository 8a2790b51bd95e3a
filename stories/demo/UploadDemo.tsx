/**
 * The live demo: `useUploadLifecycle` on `createPgliteBackend`, the real migrations running in
 * PGlite in this tab, a simulated network between them, the database panel beside the form and
 * both machines drawn from their definitions with the current states highlighted.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { createPgliteBackend } from '../../src/adapters/pglite.js';
import { lifecycleMachine } from '../../src/machines/lifecycle.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { useUploadLifecycle, useUploadSelector } from '../../src/react/index.js';
import { activePaths } from '../diagram/machine-source.js';
import { MachineDiagram } from '../diagram/MachineDiagram.js';
import { demoDatabase, DEMO_KIND, type DemoDatabase } from './database.js';
import { DbPanel, useDatabaseView } from './DbPanel.js';
import { sweepAfter } from './inspect.js';
import { simulateNetwork, type SimulatedNetwork } from './network.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';
import { demoInspector, type DemoInspector } from './stately.js';
import { RenderMeter } from './RenderMeter.js';
import { UploadForm } from './UploadForm.js';

export interface UploadDemoProps {
  /** Play a script into a terminal or error state on mount. */
  scenario?: ScenarioName;
  /** Bytes per second of the simulated network. */
  bandwidth?: number;
  /** Progress events per 50 ms tick (100: a burst of tiny chunks, for the render meter). */
  progressBurst?: number;
  showDiagrams?: boolean;
  /**
   * Show the live actors in Stately's inspector (`@statelyai/inspect`): the upload actor and its
   * `transfer:{key}` children. Opens the inspector in a new window.
   */
  inspect?: boolean;
  /** Where the inspector opens. Default https://stately.ai/inspect. */
  inspectorUrl?: string;
}

/** The upload machine's shape, for the diagram only (never run). */
const uploadMachineShape = createUploadMachine({ backend: {} as never });

const button: React.CSSProperties = { marginRight: 6, marginBottom: 6 };

function FaultPanel({
  network,
  db,
  onStartOver,
}: {
  network: SimulatedNetwork;
  db: DemoDatabase;
  onStartOver(): void;
}) {
  const state = useSyncExternalStore(network.subscribe, network.getState);
  const [swept, setSwept] = useState<string | null>(null);
  return (
    <section data-testid="fault-panel">
      <h3 style={{ font: '600 14px system-ui' }}>
        Inject a failure · network{' '}
        <span data-testid="network-state">{state.online ? 'online' : 'offline'}</span>
      </h3>
      <button style={button} onClick={() => network.dropConnection(1500)}>
        Drop connection
      </button>
      <button
        style={button}
        onClick={() => (state.online ? network.dropConnection(600_000) : network.reconnect())}
      >
        {state.online ? 'Go offline' : 'Reconnect'}
      </button>
      <button style={button} onClick={network.corruptNextTransfer} disabled={state.corruptNext}>
        Corrupt a size (next transfer 1 byte short)
      </button>
      <button
        style={button}
        onClick={() =>
          void sweepAfter(db.sql, 2).then(
            (r) => setSwept(JSON.stringify(r)),
            (e: unknown) => setSwept(String(e)),
          )
        }
      >
        Let the draft expire (sweep 2 h later)
      </button>
      <button style={button} onClick={onStartOver}>
        Start over
      </button>
      <label>
        speed{' '}
        <select value={state.bytesPerSecond} onChange={(e) => network.setBandwidth(Number(e.target.value))}>
          <option value={100_000}>100 kB/s</option>
          <option value={400_000}>400 kB/s</option>
          <option value={2_000_000}>2 MB/s</option>
        </select>
      </label>
      {swept && <pre data-testid="sweep-result">sweep: {swept}</pre>}
    </section>
  );
}

function Session({
  db,
  network,
  scenario,
  showDiagrams,
  inspector,
  onStartOver,
}: {
  db: DemoDatabase;
  network: SimulatedNetwork;
  scenario: ScenarioName | undefined;
  showDiagrams: boolean;
  inspector: DemoInspector;
  onStartOver(): void;
}) {
  const [settled, setSettled] = useState<string | null>(null);
  const inspected = useSyncExternalStore(inspector.subscribe, inspector.count);
  const upload = useUploadLifecycle({
    backend: network.backend,
    kind: DEMO_KIND,
    inspect: inspector.inspect,
    concurrency: 2,
    retry: { attempts: 4, baseDelayMs: 400, maxDelayMs: 3_000 },
    onSettled: (s) => setSettled(`${s.status}${s.failureReason ? ` (${s.failureReason})` : ''}`),
  });
  const value = useUploadSelector(upload.store, (s) => JSON.stringify(s.value));
  const view = useDatabaseView(db.sql, upload.entityId);
  const bodies = useRef(new Map<string, File>()).current;
  const mismatched = useMemo(
    () =>
      new Set(
        view.files
          .filter((f) => f.stored_size !== null && f.stored_size !== f.declared_size)
          .map((f) => f.original_name),
      ),
    [view.files],
  );
  const progressEvents = useCallback(() => network.progressEvents, [network]);
  const [scenarioState, setScenarioState] = useState(scenario ? 'running' : 'none');

  const started = useRef(false);
  useEffect(() => {
    if (!scenario || started.current) return;
    started.current = true;
    SCENARIOS[scenario]({ actions: upload, store: upload.store, network, sql: db.sql }).then(
      () => setScenarioState('done'),
      (e: unknown) => setScenarioState(`error: ${String(e)}`),
    );
  }, [scenario, upload, network, db]);

  const lifecycleActive = view.entity ? [view.entity.status] : upload.entityId ? [] : ['absent'];
  return (
    <div>
      <div style={{ display: 'grid', gridTemplateColumns: 'minmax(420px, 1fr) minmax(420px, 1fr)', gap: 16 }}>
        <div>
          <UploadForm upload={upload} mismatched={mismatched} bodies={bodies} />
          <FaultPanel network={network} db={db} onStartOver={onStartOver} />
          <RenderMeter store={upload.store} progressEvents={progressEvents} />
          <p style={{ font: '12px system-ui', color: '#555' }}>
            scenario <span data-testid="scenario-state">{scenarioState}</span> · settled{' '}
            <span data-testid="settled">{settled ?? '—'}</span> · inspection events{' '}
            <span data-testid="inspected">{inspected}</span>
          </p>
        </div>
        <DbPanel view={view} entityId={upload.entityId} />
      </div>
      {showDiagrams && (
        <div
          style={{ display: 'grid', gridTemplateColumns: 'minmax(260px, 1fr) 3fr', gap: 16, marginTop: 16 }}
        >
          <MachineDiagram machine={lifecycleMachine} active={lifecycleActive} title="Lifecycle (database)" />
          <MachineDiagram
            machine={uploadMachineShape}
            active={activePaths(JSON.parse(value) as never)}
            title="Upload machine (client)"
          />
        </div>
      )}
    </div>
  );
}

export function UploadDemo({
  scenario,
  bandwidth = 400_000,
  progressBurst = 1,
  showDiagrams = true,
  inspect = false,
  inspectorUrl,
}: UploadDemoProps) {
  const [db, setDb] = useState<DemoDatabase | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [run, setRun] = useState(0);
  useEffect(() => {
    demoDatabase().then(setDb, (e: unknown) => setFailure(String(e)));
  }, []);
  const network = useMemo(
    () =>
      db
        ? simulateNetwork(createPgliteBackend(db.db, { userId: db.userId }), {
            bytesPerSecond: bandwidth,
            eventsPerTick: progressBurst,
          })
        : null,
    [db, bandwidth, progressBurst, run],
  );
  // A new inspector per session (the hook reads its options once, at mount), once the database
  // is up: the inspector's window opens when there is something to show.
  const inspector = useMemo(
    () => (db ? demoInspector({ open: inspect, ...(inspectorUrl && { url: inspectorUrl }) }) : null),
    [db, inspect, inspectorUrl, run],
  );
  useEffect(() => () => inspector?.stop(), [inspector]);
  if (failure) return <pre data-testid="db-failure">{failure}</pre>;
  if (!db || !network || !inspector)
    return <p data-testid="db-loading">Starting PostgreSQL (PGlite) and applying the migrations…</p>;
  return (
    <div data-testid="demo-ready" style={{ font: '13px system-ui', padding: 12 }}>
      <Session
        key={`${run}:${inspect}`}
        inspector={inspector}
        db={db}
        network={network}
        scenario={run === 0 ? scenario : undefined}
        showDiagrams={showDiagrams}
        onStartOver={() => setRun((n) => n + 1)}
      />
    </div>
  );
}
