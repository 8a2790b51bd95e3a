/**
 * The demo's upload form: what an application built on `useUploadLifecycle` looks like. File rows
 * subscribe to their own file only (`useUploadFile` + `memo`).
 */
import { memo, useState } from 'react';
import {
  useUploadFile,
  useUploadSelector,
  type UploadLifecycle,
  type UploadStore,
} from '../../src/react/index.js';
import { samplePdf, samplePng, sampleText } from './samples.js';

const button: React.CSSProperties = { marginRight: 6, marginBottom: 6 };

const FileRow = memo(function FileRow({
  store,
  fileKey,
  mismatch,
  onRetry,
  onReplace,
}: {
  store: UploadStore;
  fileKey: string;
  mismatch: boolean;
  onRetry: (key: string) => void;
  onReplace: (key: string) => void;
}) {
  const file = useUploadFile(store, fileKey);
  const failures = useUploadSelector(
    store,
    (s) => s.context.files.find((f) => f.key === fileKey)?.failures ?? 0,
  );
  if (!file) return null;
  return (
    <li data-testid={`file-${file.name}`} data-state={file.state} style={{ marginBottom: 4 }}>
      <code>{file.slot}</code> {file.name} ({file.size.toLocaleString('en')} B){' '}
      <progress value={file.progress} max={1} style={{ width: 160, verticalAlign: 'middle' }} />{' '}
      <strong data-testid="file-state">{file.state}</strong>
      {failures > 0 && <span> · retries {failures}</span>}
      {file.error && (
        <span style={{ color: '#b71c1c' }}>
          {' '}
          {file.error.code}: {file.error.message}
        </span>
      )}
      {file.state === 'error' && (
        <button style={{ marginLeft: 6 }} onClick={() => onRetry(file.key)}>
          Retry file
        </button>
      )}
      {mismatch && (
        <button style={{ marginLeft: 6 }} onClick={() => onReplace(file.key)}>
          Replace corrupted file
        </button>
      )}
    </li>
  );
});

export interface UploadFormProps {
  upload: UploadLifecycle;
  /** Names of files whose stored object does not match the registration (from the DB panel). */
  mismatched: ReadonlySet<string>;
  /** The bytes the form added, by name, so a corrupted file can be sent again. */
  bodies: Map<string, File>;
}

export function UploadForm({ upload, mismatched, bodies }: UploadFormProps) {
  const [title, setTitle] = useState('Q3 report');
  const add = (files: File[], slot: string) => {
    for (const f of files) bodies.set(f.name, f);
    upload.addFiles(files, { slot });
  };
  const replace = (key: string) => {
    const file = upload.files.find((f) => f.key === key);
    const body = file && bodies.get(file.name);
    if (!file || !body) return;
    upload.removeFile(key);
    upload.addFiles([{ slot: file.slot, body, name: file.name }]);
  };
  const { status, progress, error } = upload;
  return (
    <section data-testid="upload-form">
      <h3 style={{ font: '600 14px system-ui' }}>
        Upload · <span data-testid="upload-status">{status}</span>
        {upload.isBusy && ' …'}
      </h3>
      <label>
        Title <input value={title} onChange={(e) => setTitle(e.target.value)} disabled={status !== 'idle'} />
      </label>
      <div style={{ margin: '8px 0' }}>
        <label>
          Document (PDF){' '}
          <input
            type="file"
            accept="application/pdf"
            onChange={(e) => add([...(e.target.files ?? [])], 'document')}
          />
        </label>
        <label>
          Photos{' '}
          <input
            type="file"
            accept="image/*"
            multiple
            onChange={(e) => add([...(e.target.files ?? [])], 'photos')}
          />
        </label>
      </div>
      <div>
        <button
          style={button}
          onClick={() => {
            add([samplePdf()], 'document');
            add([samplePng(300_000, 'front.png'), samplePng(200_000, 'back.png')], 'photos');
          }}
        >
          Add sample files
        </button>
        <button style={button} onClick={() => add([sampleText()], 'photos')}>
          Add a text file as a photo
        </button>
        <button style={button} onClick={() => upload.create({ title })} disabled={status !== 'idle'}>
          Create draft
        </button>
        <button style={button} onClick={upload.start} disabled={status !== 'draft'}>
          Start upload
        </button>
        <button style={button} onClick={upload.finalize} disabled={status !== 'uploading'}>
          Finalize
        </button>
        <button style={button} onClick={upload.cancel} disabled={status !== 'uploading'}>
          Cancel
        </button>
        <button style={button} onClick={upload.retry} disabled={status !== 'failed'}>
          Retry upload
        </button>
        <button style={button} onClick={() => upload.resume()} disabled={status !== 'suspended'}>
          Resume
        </button>
      </div>
      <p>
        <progress data-testid="overall-progress" value={progress.fraction} max={1} style={{ width: 300 }} />{' '}
        {Math.round(progress.fraction * 100)}% · {progress.filesUploaded}/{progress.filesTotal} files
      </p>
      <ul style={{ paddingLeft: 16 }}>
        {upload.files.map((f) => (
          <FileRow
            key={f.key}
            store={upload.store}
            fileKey={f.key}
            mismatch={mismatched.has(f.name) && f.state === 'uploaded'}
            onRetry={upload.retryFile}
            onReplace={replace}
          />
        ))}
      </ul>
      {error && (
        <div
          data-testid="upload-error"
          data-code={error.code}
          style={{ color: '#b71c1c', whiteSpace: 'pre-wrap' }}
        >
          <strong>{error.code}</strong> {error.name}: {error.message}
          {error.detail && <div>detail: {error.detail}</div>}
          {error.hint && <div>hint: {error.hint}</div>}
        </div>
      )}
    </section>
  );
}
