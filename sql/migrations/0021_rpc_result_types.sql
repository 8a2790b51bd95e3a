-- 0021 RPC result shapes: the JSON every RPC answers, declared in the catalog.
-- Guarantees: each jsonb-returning RPC carries `@returns <Type>` in its comment, and the named
-- types are declared with `@type <Name> { field: type; … }` on the function that builds them. The
-- type generator (`npm run generate:types`) turns them into TypeScript (`RpcResults`), and a
-- contract test compares the declared fields with the keys the RPCs really answer, so the
-- declaration cannot drift from the jsonb_build_object calls of 0013, 0014 and 0019.
comment on function upload_lifecycle.upload_state(uuid) is
$c$The UploadState JSON of docs/rpc.md, answered by every lifecycle RPC.
@type UploadState { entity_id: string; kind: string; status: "draft" | "uploading" | "completed" | "failed"; attempt: number; max_attempts: number; failure_reason: string | null; metadata: { [key: string]: Json | undefined }; created_at: string; updated_at: string; completed_at: string | null; requirements: UploadStateRequirement[]; files: UploadStateFile[] }
@type UploadStateRequirement { slot: string; min_count: number; max_count: number; max_bytes: number; allowed_mime_types: string[] }
@type UploadStateFile { file_id: string; slot: string; original_name: string; declared_size: number; declared_mime: string; sha256: string | null; bucket_id: string; object_path: string; verified_at: string | null; object_exists: boolean; object_matches: boolean }$c$;

comment on function upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text) is
$c$Registers one file of a locked entity; the answer of register_upload_file.
@type RegisteredFile { file_id: string; bucket_id: string; object_path: string }$c$;

comment on function public.create_upload_share(uuid, timestamptz) is
$c$Creates a share token for a completed upload of the caller. The token is answered once and stored only as a hash.
@type UploadShare { share_id: string; entity_id: string; token: string; expires_at: string | null }
@returns UploadShare$c$;

comment on function public.get_shared_upload(text) is
$c$Reads a shared completed upload by its token (anon may call it). Sign download URLs for the listed paths on demand.
@type SharedUpload { entity_id: string; kind: string; metadata: { [key: string]: Json | undefined }; completed_at: string; expires_at: string | null; files: SharedUploadFile[] }
@type SharedUploadFile { file_id: string; slot: string; original_name: string; size: number; mime: string; sha256: string | null; bucket_id: string; object_path: string }
@returns SharedUpload$c$;

comment on function public.create_upload_draft(text, jsonb, text, jsonb, boolean) is
$c$Creates a draft of the caller (same idempotency_key: same entity); with files and start_upload, begins and registers them in the same call.
@returns UploadState$c$;
comment on function public.begin_upload(uuid) is $c$draft → uploading.
@returns UploadState$c$;
comment on function public.register_upload_file(uuid, text, text, bigint, text, text) is
$c$Registers a file while uploading; answers where to upload it.
@returns RegisteredFile$c$;
comment on function public.remove_upload_file(uuid, uuid) is $c$Removes a file row while uploading.
@returns UploadState$c$;
comment on function public.finalize_upload(uuid) is
$c$uploading → completed after verifying every file in Storage (UL002 with the problems otherwise); idempotent.
@returns UploadState$c$;
comment on function public.fail_upload(uuid, text) is $c$uploading → failed, recording the reason.
@returns UploadState$c$;
comment on function public.retry_upload(uuid) is $c$failed → uploading while attempts are left (UL006 otherwise).
@returns UploadState$c$;
comment on function public.get_upload_state(uuid) is $c$Status, requirements and files with their Storage presence, for resuming.
@returns UploadState$c$;
comment on function public.delete_upload(uuid) is $c$Deletes an own upload that is not completed.$c$;
comment on function public.revoke_upload_share(uuid) is $c$Revokes an own share token.$c$;
