/**
 * The database as it is, read straight from PGlite every few hundred milliseconds: the entity
 * row, its files (with what Storage holds for each) and its audit log.
 */
import { useEffect, useState } from 'react';
import type { SqlClient } from '../../src/db/client.js';
import { inspectEntity, type DatabaseView } from './inspect.js';

const EMPTY: DatabaseView = { entity: null, files: [], events: [] };

/** Polls the entity; `null` entity id shows an empty panel. */
export function useDatabaseView(sql: SqlClient, entityId: string | null, intervalMs = 250): DatabaseView {
  const [view, setView] = useState<DatabaseView>(EMPTY);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await inspectEntity(sql, entityId);
        if (live) setView((prev) => (JSON.stringify(prev) === JSON.stringify(next) ? prev : next));
      } finally {
        if (live) timer = setTimeout(() => void tick(), intervalMs);
      }
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [sql, entityId, intervalMs]);
  return view;
}

const cell: React.CSSProperties = { border: '1px solid #ddd', padding: '2px 6px', textAlign: 'left' };
const short = (id: string) => id.slice(0, 8);
const time = (t: string | null) => (t ? t.slice(11, 23) : '—');

export function DbPanel({ view, entityId }: { view: DatabaseView; entityId: string | null }) {
  const { entity, files, events } = view;
  return (
    <section data-testid="db-panel" style={{ font: '12px ui-monospace, monospace' }}>
      <h3 style={{ font: '600 14px system-ui' }}>Database (PGlite, read as superuser)</h3>
      <p>
        entity <code>{entityId ? short(entityId) : '—'}</code> · status{' '}
        <strong data-testid="db-status">{entity?.status ?? (entityId ? 'deleted' : 'none')}</strong> · attempt{' '}
        {entity?.attempt ?? '—'}
        {entity?.failure_reason && (
          <>
            {' '}
            · reason <span data-testid="db-failure-reason">{entity.failure_reason}</span>
          </>
        )}
        {entity?.completed_at && <> · completed {time(entity.completed_at)}</>}
      </p>
      <table style={{ borderCollapse: 'collapse', marginBottom: 8 }} data-testid="db-files">
        <thead>
          <tr>
            {['file', 'slot', 'name', 'declared', 'in storage', 'verified'].map((h) => (
              <th key={h} style={cell}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {files.length === 0 && (
            <tr>
              <td style={cell} colSpan={6}>
                no files registered
              </td>
            </tr>
          )}
          {files.map((f) => (
            <tr key={f.id} data-mismatch={f.stored_size !== null && f.stored_size !== f.declared_size}>
              <td style={cell}>{short(f.id)}</td>
              <td style={cell}>{f.slot}</td>
              <td style={cell}>{f.original_name}</td>
              <td style={cell}>{f.declared_size}</td>
              <td
                style={{
                  ...cell,
                  color: f.stored_size !== null && f.stored_size !== f.declared_size ? '#b71c1c' : undefined,
                }}
              >
                {f.stored_size ?? '—'}
              </td>
              <td style={cell}>{time(f.verified_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ol data-testid="db-events" style={{ margin: 0, paddingLeft: 20 }}>
        {events.map((e) => (
          <li key={e.id}>
            {time(e.created_at)} <strong>{e.event}</strong> {e.from_status ?? '∅'} → {e.to_status ?? '∅'}{' '}
            <span style={{ color: '#666' }}>by {e.actor_role}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
