import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { DATABASE_TYPES_PATH, parseComment, renderDatabaseTypes } from '../../scripts/gen-types.js';
import type {
  Database,
  RpcArgs,
  RpcResults,
  Tables,
  TablesInsert,
  UploadState,
} from '../../src/generated/database.types.js';
import { createUser, user, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { PDF, rpc, upload, createContractDb } from './support.js';

const root = join(import.meta.dirname, '../..');
let db: TestDb;

beforeAll(async () => {
  db = await createContractDb();
});
afterAll(async () => {
  await db.close();
});

describe('src/generated/database.types.ts', () => {
  it('is exactly what `npm run generate:types` renders from the catalog of the current migrations', async () => {
    const committed = await readFile(join(root, DATABASE_TYPES_PATH), 'utf8');
    const rendered = await renderDatabaseTypes(db);
    expect(committed, `${DATABASE_TYPES_PATH} is stale: run npm run generate:types`).toBe(rendered);
  });

  it('drift is detected: a new RPC parameter changes the rendered file', async () => {
    const before = await renderDatabaseTypes(db);
    await db.exec(`create function public.types_drift_probe(entity_id uuid, extra int default 1) returns jsonb
                   language sql as $$ select '{}'::jsonb $$`);
    try {
      const after = await renderDatabaseTypes(db);
      expect(after).not.toBe(before);
      expect(after).toContain(
        'types_drift_probe: { Args: { entity_id: string; extra?: number }; Returns: Json }',
      );
    } finally {
      await db.exec('drop function public.types_drift_probe(uuid, int)');
    }
  });

  it('has the supabase gen types shape: Row / Insert / Update / Relationships, Args / Returns, Enums', () => {
    type Entities = Database['upload_lifecycle']['Tables']['entities'];
    expectTypeOf<Entities['Row']['status']>().toEqualTypeOf<
      'draft' | 'uploading' | 'processing' | 'completed' | 'failed'
    >();
    expectTypeOf<Entities['Row']['completed_at']>().toEqualTypeOf<string | null>();
    expectTypeOf<Entities['Insert']['kind']>().toEqualTypeOf<string>();
    expectTypeOf<Entities['Insert']>().toHaveProperty('id').toEqualTypeOf<string | undefined>();
    expectTypeOf<
      TablesInsert<{ schema: 'upload_lifecycle' }, 'entity_events'>['id']
    >().toEqualTypeOf<undefined>();
    expectTypeOf<
      Tables<{ schema: 'upload_lifecycle' }, 'entity_files'>['declared_size']
    >().toEqualTypeOf<number>();
    expectTypeOf<RpcArgs<'register_upload_file'>>().toEqualTypeOf<{
      entity_id: string;
      slot: string;
      filename: string;
      size: number;
      mime: string;
      sha256?: string;
      file_key?: string;
    }>();
    expectTypeOf<RpcArgs<'fail_upload'>>().toEqualTypeOf<{ entity_id: string; reason?: string }>();
    expectTypeOf<RpcResults['finalize_upload']>().toEqualTypeOf<UploadState>();
    expectTypeOf<RpcResults['delete_upload']>().toEqualTypeOf<undefined>();
  });
});

describe('the declared result shapes are what the RPCs answer', () => {
  async function declared(): Promise<Map<string, string[]>> {
    const { rows } = await db.query<{ comment: string }>(
      `select obj_description(p.oid, 'pg_proc') as comment from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ('public', 'upload_lifecycle') and obj_description(p.oid, 'pg_proc') like '%@type %'`,
    );
    return new Map(rows.flatMap((r) => parseComment(r.comment).types.map((t) => [t.name, t.fields])));
  }
  const sorted = (o: object) => Object.keys(o).sort();

  it('UploadState, UploadStateFile, UploadStateRequirement, RegisteredFile, UploadShare, SharedUpload(File)', async () => {
    const types = await declared();
    const alice = await createUser(db);
    const { kind } = await defineKind(db);
    const state = await rpc<UploadState>(db, user(alice), 'create_upload_draft', {
      kind,
      files: [PDF],
      start_upload: true,
    });
    expect(sorted(state)).toEqual([...types.get('UploadState')!].sort());
    expect(sorted(state.files[0]!)).toEqual([...types.get('UploadStateFile')!].sort());
    expect(sorted(state.requirements[0]!)).toEqual([...types.get('UploadStateRequirement')!].sort());
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    await rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id });

    const other = await rpc<UploadState>(db, user(alice), 'create_upload_draft', {
      kind,
      start_upload: true,
    });
    const registered = await rpc<object>(db, user(alice), 'register_upload_file', {
      entity_id: other.entity_id,
      ...PDF,
    });
    expect(sorted(registered)).toEqual([...types.get('RegisteredFile')!].sort());

    const share = await rpc<{ token: string }>(db, user(alice), 'create_upload_share', {
      entity_id: state.entity_id,
    });
    expect(sorted(share)).toEqual([...types.get('UploadShare')!].sort());
    const shared = await rpc<{ files: object[] }>(db, { role: 'anon' }, 'get_shared_upload', {
      token: share.token,
    });
    expect(sorted(shared)).toEqual([...types.get('SharedUpload')!].sort());
    expect(sorted(shared.files[0]!)).toEqual([...types.get('SharedUploadFile')!].sort());
  });
});
