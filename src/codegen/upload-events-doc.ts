/**
 * docs/upload-machine.md: what each state of the upload machine does with each user event,
 * rendered from `USER_EVENT_POLICY` — the table the machine is built from and checked against.
 */
import {
  UPLOAD_PHASES,
  USER_EVENT_POLICY,
  USER_EVENT_TYPES,
  type EventPolicy,
} from '../machines/upload-events.js';

const MARK: Record<EventPolicy, string> = { handle: 'handle', defer: '**defer**', refuse: '—' };

export function renderUploadEventsDoc(): string {
  const header = `| state | ${USER_EVENT_TYPES.join(' | ')} |`;
  const rule = `| --- | ${USER_EVENT_TYPES.map(() => '---').join(' | ')} |`;
  const rows = UPLOAD_PHASES.map(
    (phase) =>
      `| \`${phase}\` | ${USER_EVENT_TYPES.map((t) => MARK[USER_EVENT_POLICY[phase][t]]).join(' | ')} |`,
  );
  return `<!-- Generated from src/machines/upload-events.ts by \`npm run generate\`; do not edit. -->

# The upload machine: every event in every state

Every user event gets an answer in every state of the upload machine — never silence:

- **handle**: it takes effect now (it may still be refused for its content, typed: a file the
  kind does not allow is an \`InvalidFileError\`, FINALIZE before every file is uploaded a
  \`NotAcceptingError\` saying how many are missing);
- **defer**: it is recorded and takes effect when the call in flight answers — a file removed
  while \`start_upload\` runs leaves the list at once and its row is removed once it exists;
  CANCEL while finalizing cancels unless the upload completed first, and then says so; DISCARD
  while a call is in flight deletes once it answers, unless the upload completed first;
- **—** (refuse): \`error\` becomes a \`NotAcceptingError\` (\`UL005\`) whose message names the event and
  the state (\`START is not accepted while uploading\`) and whose hint says what to do instead.
  Nothing else changes.

${header}
${rule}
${rows.join('\n')}

ADD_FILES and REMOVE_FILE change the local list wherever the entity can still change; the database
follows while the upload runs (one \`register_upload_files\` call per batch, idempotent by file key).
\`completed\` and \`discarded\` refuse everything: they are final, but the actor stays alive so a
late event gets a typed answer instead of being dropped by a stopped actor. \`discarding\` (the
\`delete_upload\` call) refuses everything too: it lasts one round trip.

\`processing\` (finalize answered it: the kind has required processors) waits for the database,
which alone moves the entity to \`completed\` or \`failed\` once the jobs end; the machine watches
(\`backend.watchUpload\`, else polling \`get_upload_state\` with backoff) and records each file's
jobs. The files are frozen from finalize on, so every event that changes them, and CANCEL (the
work is the database's, not the client's), is refused; DISCARD deletes the upload
(\`delete_upload\` refuses only a completed entity), RESUME is harmless.

DISCARD deletes the upload (\`delete_upload\`: the rows go, the objects are queued for removal) and
forgets the local files. In \`idle\` there is no entity yet: only the local files are forgotten, no
call is made. From \`uploading\` the transfers are aborted first. The database refuses to delete a
completed entity, so \`completed\` refuses DISCARD. If the delete goes unanswered or is refused, the
machine reads the entity again and keeps the error; it does not finalize on its own after that
(send DISCARD again, or FINALIZE). CANCEL only stops a *running* upload (it becomes \`failed\`,
retryable); in \`idle\`, \`draft\` and \`starting\` nothing runs yet, so CANCEL is refused and its
hint names DISCARD.
`;
}
