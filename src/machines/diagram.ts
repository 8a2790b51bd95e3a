/**
 * Mermaid state diagrams drawn from a machine's own definition, never by hand.
 */
import type { AnyStateMachine, AnyStateNode, StateValue } from 'xstate';

/** Options of {@link toMermaid}. */
export interface MermaidOptions {
  /** Label transitions with their guard, e.g. `finalize [requirements_met]`. Default true. */
  guards?: boolean;
  /** State ids (dot paths) to highlight with a `current` class. */
  highlight?: readonly string[];
}

function nodeId(node: AnyStateNode): string {
  return node.path.length === 0 ? node.machine.id : node.path.join('_');
}

function guardLabel(guard: unknown): string | null {
  if (!guard) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String(guard.type);
  return 'guard';
}

/** XState's internal event names, shortened for reading (`xstate.done.actor.x` → `x ✓`). */
export function readableEvent(eventType: string): string {
  return eventType
    .replace(/^xstate\.done\.actor\.([\w.-]+)$/, '$1 ✓')
    .replace(/^xstate\.error\.actor\.([\w.-]+)$/, '$1 ✗')
    .replace(/^xstate\.after\.(\w+)\.[\w.]+$/, 'after $1');
}

function renderStates(node: AnyStateNode, indent: string, out: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.initial && children.length > 0) {
    out.push(`${indent}[*] --> ${nodeId(node.initial.target[0] as AnyStateNode)}`);
  }
  for (const child of children) {
    if (Object.keys(child.states).length > 0) {
      out.push(`${indent}state ${nodeId(child)} {`);
      renderStates(child, indent + '  ', out);
      out.push(`${indent}}`);
    } else {
      out.push(`${indent}${nodeId(child)}: ${child.key}`);
    }
    if (child.type === 'final') out.push(`${indent}${nodeId(child)} --> [*]`);
  }
}

// Transitions are written at the top level: Mermaid draws every state a transition names inside
// the block where the transition is written, which would pull targets into compound states.
function renderTransitions(node: AnyStateNode, options: MermaidOptions, out: string[]): void {
  for (const child of Object.values(node.states) as AnyStateNode[]) {
    const edges: [string, { target?: readonly unknown[] | undefined; guard?: unknown }][] = [
      ...[...child.transitions].flatMap(([eventType, definitions]) =>
        definitions.map((d) => [readableEvent(eventType), d] as [string, typeof d]),
      ),
      ...(child.always ?? []).map((d) => ['always', d] as [string, typeof d]),
    ];
    for (const [label, definition] of edges) {
      for (const target of definition.target ?? []) {
        const guard = options.guards === false ? null : guardLabel(definition.guard);
        out.push(
          `  ${nodeId(child)} --> ${nodeId(target as AnyStateNode)}: ${guard ? `${label} [${guard}]` : label}`,
        );
      }
    }
    renderTransitions(child, options, out);
  }
}

/**
 * Renders a machine as a Mermaid `stateDiagram-v2`: states (nested ones as composite states),
 * event, eventless (`always`) and delayed transitions with their guards.
 *
 * @example
 * ```ts
 * import { lifecycleMachine, toMermaid } from 'upload-lifecycle';
 * const source = toMermaid(lifecycleMachine, { highlight: ['uploading'] });
 * ```
 */
export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const out = ['stateDiagram-v2'];
  renderStates(machine.root, '  ', out);
  renderTransitions(machine.root, options, out);
  if (options.highlight && options.highlight.length > 0) {
    out.push('  classDef current fill:#ffd54f,stroke:#f57f17,stroke-width:3px');
    for (const id of options.highlight) out.push(`  class ${id.replaceAll('.', '_')} current`);
  }
  return out.join('\n') + '\n';
}

/** The dot paths of every active state: `{ finalizing: 'calling' }` → `['finalizing', 'finalizing.calling']`. */
export function activePaths(value: StateValue): string[] {
  if (typeof value === 'string') return [value];
  return Object.entries(value).flatMap(([key, child]) => [
    key,
    ...(child === undefined ? [] : activePaths(child).map((p) => `${key}.${p}`)),
  ]);
}
