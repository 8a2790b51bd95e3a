/**
 * Type tests (checked by `tsc`, never run): what the hook's API lets through and what it refuses.
 */
import { expectTypeOf } from 'vitest';
import type { UploadLifecycleError } from '../../src/errors.js';
import type { UploadStatus } from '../../src/machines/lifecycle.js';
import type { UploadLifecycle, UploadFileView, UploadPhase } from '../../src/react/index.js';

declare const upload: UploadLifecycle;
declare const fileList: FileList;

expectTypeOf(upload.status).toEqualTypeOf<UploadPhase>();
expectTypeOf(upload.databaseStatus).toEqualTypeOf<UploadStatus | null>();
expectTypeOf(upload.error).toEqualTypeOf<UploadLifecycleError | null>();
expectTypeOf(upload.files).toEqualTypeOf<UploadFileView[]>();
expectTypeOf<UploadFileView['progress']>().toEqualTypeOf<number>();

upload.addFiles(fileList, { slot: 'photos' });
upload.addFiles([new File([], 'a.pdf')], { slot: 'document' });
upload.addFiles([{ slot: 'document', body: new Uint8Array(3), name: 'a.pdf', type: 'application/pdf' }]);
// @ts-expect-error plain files need a slot
upload.addFiles(fileList);
// @ts-expect-error metadata is an object
upload.create('title');
upload.create({ title: 'Q3' }, { idempotencyKey: 'k' });
upload.resume({ f1: new Blob(['x']) });
