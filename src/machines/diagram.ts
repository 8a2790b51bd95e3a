/**
 * Mermaid state diagrams drawn from a machine's own definition, never by hand.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

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

function renderNode(node: AnyStateNode, indent: string, options: MermaidOptions, out: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  if (node.initial && children.length > 0) {
    const initial = node.initial.target[0] as AnyStateNode;
    out.push(`${indent}[*] --> ${nodeId(initial)}`);
  }
  for (const child of children) {
    const childStates = Object.values(child.states);
    if (childStates.length > 0) {
      out.push(`${indent}state ${nodeId(child)} {`);
      renderNode(child, indent + '  ', options, out);
      out.push(`${indent}}`);
    } else {
      out.push(`${indent}${nodeId(child)}: ${child.key}`);
    }
    if (child.type === 'final') out.push(`${indent}${nodeId(child)} --> [*]`);
  }
  for (const child of children) {
    for (const [eventType, definitions] of child.transitions) {
      for (const definition of definitions) {
        for (const target of definition.target ?? []) {
          const guard = options.guards === false ? null : guardLabel(definition.guard);
          const label = guard ? `${eventType} [${guard}]` : eventType;
          out.push(`${indent}${nodeId(child)} --> ${nodeId(target as AnyStateNode)}: ${label}`);
        }
      }
    }
  }
}

/**
 * Renders a machine as a Mermaid `stateDiagram-v2`.
 *
 * @example
 * ```ts
 * import { lifecycleMachine, toMermaid } from 'upload-lifecycle';
 * const source = toMermaid(lifecycleMachine); // "stateDiagram-v2\n  [*] --> absent ..."
 * ```
 */
export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const out = ['stateDiagram-v2'];
  renderNode(machine.root, '  ', options, out);
  if (options.highlight && options.highlight.length > 0) {
    out.push('  classDef current fill:#ffd54f,stroke:#f57f17,stroke-width:3px');
    for (const id of options.highlight) out.push(`  class ${id.replaceAll('.', '_')} current`);
  }
  return out.join('\n') + '\n';
}
