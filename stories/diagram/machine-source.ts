/**
 * The Mermaid source of a machine, generated from the machine itself by `toMermaid`.
 */
import type { AnyStateMachine } from 'xstate';
import { activePaths, toMermaid } from '../../src/machines/diagram.js';

export { activePaths };

/** Mermaid `stateDiagram-v2` source; `active` are dot paths of the states to highlight. */
export function machineSource(machine: AnyStateMachine, active: readonly string[] = []): string {
  return toMermaid(machine, { highlight: active });
}
