/**
 * The per-file actor on its own, under a small parent that records what it reports: REMOVE undoes
 * the registration wherever the file is, so a parent that saw it registering never waits forever.
 */
import { describe, expect, it } from 'vitest';
import { assign, createActor, setup, spawnChild, waitFor, type AnyEventObject } from 'xstate';
import { bytesOf, createFileUploadLogic } from '../../src/machines/upload-actors.js';
import { DEFAULT_RETRY, type FileUploadInput } from '../../src/machines/file-upload.js';
import { createFakeBackend } from './fake-backend.js';

async function uploadingEntity() {
  const fake = createFakeBackend();
  const draft = await fake.backend.createDraft({ kind: 'report' });
  await fake.backend.beginUpload(draft.entityId);
  return { fake, entityId: draft.entityId };
}

function parentOf(fake: ReturnType<typeof createFakeBackend>, input: FileUploadInput) {
  return setup({
    types: { context: {} as { reports: string[] } },
    actors: { fileUpload: createFileUploadLogic(fake.backend, () => 0.5) },
  }).createMachine({
    context: { reports: [] },
    entry: spawnChild('fileUpload', { id: 'file', input }),
    on: {
      '*': {
        actions: assign({
          reports: ({ context, event }: { context: { reports: string[] }; event: AnyEventObject }) =>
            event.type === 'FILE.UPDATE'
              ? [...context.reports, `update:${(event as unknown as { status: string }).status}`]
              : event.type.startsWith('FILE.')
                ? [...context.reports, event.type]
                : context.reports,
        }),
      },
    },
  });
}

describe('file actor', () => {
  it('REMOVE while uploading aborts the transfer, removes the registration and reports FILE.DISCARDED', async () => {
    const { fake, entityId } = await uploadingEntity();
    fake.control.stallTransfers = true;
    const registered = await fake.backend.registerFile(entityId, {
      slot: 'photos',
      filename: 'p.png',
      size: 100,
      mime: 'image/png',
    });
    const input: FileUploadInput = {
      key: 'f1',
      entityId,
      slot: 'photos',
      name: 'p.png',
      size: 100,
      type: 'image/png',
      sha256: null,
      ...registered,
      retry: DEFAULT_RETRY,
    };
    const parent = createActor(parentOf(fake, input)).start();
    const child = parent.getSnapshot().children.file!;
    // The bytes live outside the snapshot, keyed by the actor system.
    bytesOf(parent.system).set('f1', new Blob([new Uint8Array(100)], { type: 'image/png' }));
    child.send({ type: 'RUN' });
    await fake.stalled(1);
    child.send({ type: 'REMOVE' });
    expect(fake.pending[0]!.transfer.signal.aborted).toBe(true);
    await waitFor(parent, (s) => s.context.reports.includes('FILE.DISCARDED'));
    expect(fake.count('removeFile')).toBe(1);
    expect(fake.entities.get(entityId)!.state.files).toEqual([]);
    expect(parent.getSnapshot().context.reports).toEqual(['update:uploading', 'FILE.DISCARDED']);
  });
});
