/**
 * A machine rendered as a Mermaid state diagram, from the machine's own definition, with the
 * current state highlighted.
 */
import { useEffect, useId, useMemo, useState } from 'react';
import type { AnyStateMachine } from 'xstate';
import { machineSource } from './machine-source.js';

let mermaidReady: Promise<typeof import('mermaid').default> | null = null;
function loadMermaid() {
  mermaidReady ??= import('mermaid').then(({ default: mermaid }) => {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral' });
    return mermaid;
  });
  return mermaidReady;
}

export interface MachineDiagramProps {
  machine: AnyStateMachine;
  /** Dot paths of the active states (`activePaths(snapshot.value)`). */
  active?: readonly string[];
  title: string;
}

export function MachineDiagram({ machine, active = [], title }: MachineDiagramProps) {
  const key = active.join(' ');
  const source = useMemo(() => machineSource(machine, key ? key.split(' ') : []), [machine, key]);
  const id = useId().replace(/[^a-zA-Z0-9]/g, '');
  const [svg, setSvg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    loadMermaid()
      .then((mermaid) => mermaid.render(`diagram-${id}-${Date.now()}`, source))
      .then(
        ({ svg }) => live && setSvg(svg),
        (e: unknown) => live && setError(String(e)),
      );
    return () => {
      live = false;
    };
  }, [id, source]);

  return (
    <figure
      style={{ margin: 0 }}
      data-testid={`diagram-${machine.id}`}
      data-active={key}
      data-rendered={svg !== null}
    >
      <figcaption style={{ font: '600 14px system-ui', marginBottom: 4 }}>
        {title} {key && <code style={{ fontWeight: 400 }}>— {key}</code>}
      </figcaption>
      {error ? (
        <pre style={{ color: '#b71c1c' }}>{error}</pre>
      ) : svg ? (
        <div dangerouslySetInnerHTML={{ __html: svg }} />
      ) : (
        <pre style={{ fontSize: 11, color: '#666' }}>{source}</pre>
      )}
    </figure>
  );
}
