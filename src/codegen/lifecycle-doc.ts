import type { LifecycleSpec } from './lifecycle-sql.js';

/** Renders `docs/lifecycle.md`: the Mermaid diagram and the lifecycle table, from the machine. */
export function renderLifecycleDoc(spec: LifecycleSpec, mermaid: string): string {
  const rows = spec.transitions
    .map(
      (t) =>
        `| ${t.from ?? '—'} | ${t.event} | ${t.to} | ${t.actors.join(', ')} | ${t.guard ?? '—'} | ${t.actions.join(', ') || '—'} |`,
    )
    .join('\n');
  const forbidden = spec.statuses
    .flatMap((from) => spec.statuses.filter((to) => to !== from).map((to) => [from, to] as const))
    .filter(([from, to]) => !spec.transitions.some((t) => t.from === from && t.to === to))
    .map(([from, to]) => `\`${from} → ${to}\``)
    .join(', ');
  return `<!-- GENERATED from src/machines/lifecycle.ts by \`npm run generate\`. Do not edit. -->
# The upload lifecycle

Statuses: ${spec.statuses.map((s) => `\`${s}\``).join(', ')}. \`absent\` is "no row yet".

\`\`\`mermaid
${mermaid}\`\`\`

| from | event | to | who | guard | actions |
|---|---|---|---|---|---|
${rows}

Every other status change is forbidden and the database refuses it with \`UL001\`: ${forbidden}.
An update to the same status is a no-op, not a transition. Rows leave the lifecycle only by deletion.

- \`requirements_met\` is checked at commit by a deferred constraint trigger
  (\`sql/functions/upload_lifecycle.check_completion.sql\`, rules in \`upload_lifecycle.completion_problems.sql\`).
- \`attempts_left\` (\`attempt < max_attempts\`) is checked by the transition trigger
  (\`sql/functions/upload_lifecycle.guard_entity_update.sql\`), which also runs the actions by name.
`;
}
