// GENERATED from the database catalog after the migrations by `npm run generate:types`. Do not edit.
// Same shape as `supabase gen types typescript --schema public,upload_lifecycle`.
/* eslint-disable */

/** A JSON value, as jsonb columns and RPC answers carry it. */
export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

/** The public and upload_lifecycle schemas: tables, views, functions (RPCs) and enums. Pass it to `createClient<Database>`. */
export type Database = {
  public: {
    Tables: {
      [_ in never]: never
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      begin_upload: { Args: { entity_id: string }; Returns: Json }
      claim_storage_deletions: { Args: { batch?: number; lease_seconds?: number }; Returns: { id: number; bucket_id: string; object_path: string; attempts: number }[] }
      claim_upload_jobs: { Args: { worker_id: string; max_jobs?: number; lease_seconds?: number; processors?: string[] }; Returns: { job_id: string; processor: string; entity_id: string; file_id: string; kind: string; slot: string; bucket_id: string; object_path: string; declared_size: number; declared_mime: string; declared_sha256: string; required: boolean; attempt: number; max_attempts: number; entity_attempt: number; lease_until: string }[] }
      complete_storage_deletions: { Args: { ids: number[] }; Returns: Json }
      complete_upload_job: { Args: { job_id: string; worker_id: string; result?: Json; artifacts?: Json }; Returns: Json }
      create_upload_draft: { Args: { kind: string; metadata?: Json; idempotency_key?: string; files?: Json; start_upload?: boolean }; Returns: Json }
      create_upload_share: { Args: { entity_id: string; expires_at?: string }; Returns: Json }
      delete_upload: { Args: { entity_id: string }; Returns: undefined }
      extend_upload_job_leases: { Args: { worker_id: string; job_ids: string[]; lease_seconds?: number }; Returns: string[] }
      fail_storage_deletions: { Args: { ids: number[]; error: string }; Returns: number }
      fail_upload: { Args: { entity_id: string; reason?: string }; Returns: Json }
      fail_upload_job: { Args: { job_id: string; worker_id: string; error?: Json; retryable?: boolean }; Returns: Json }
      finalize_upload: { Args: { entity_id: string }; Returns: Json }
      get_shared_upload: { Args: { token: string }; Returns: Json }
      get_upload_state: { Args: { entity_id: string }; Returns: Json }
      list_uploads: { Args: { kind?: string; status?: string; after?: string; page_size?: number }; Returns: Json }
      register_upload_file: { Args: { entity_id: string; slot: string; filename: string; size: number; mime: string; sha256?: string; file_key?: string }; Returns: Json }
      register_upload_files: { Args: { entity_id: string; files: Json }; Returns: Json }
      remove_upload_file: { Args: { entity_id: string; file_id: string }; Returns: Json }
      requeue_failed_upload_job: { Args: { failed_job_id: string }; Returns: Json }
      retry_upload: { Args: { entity_id: string }; Returns: Json }
      revoke_upload_share: { Args: { share_id: string }; Returns: undefined }
      start_upload: { Args: { entity_id: string; files?: Json }; Returns: Json }
      sweep_upload_lifecycle: { Args: { now?: string; batch?: number }; Returns: Json }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
  upload_lifecycle: {
    Tables: {
      artifacts: {
        Row: {
          bucket_id: string
          content_type: string
          created_at: string
          entity_id: string
          file_id: string
          id: string
          job_id: string
          object_path: string
          sha256: string | null
          size: number
          variant: string
        }
        Insert: {
          bucket_id: string
          content_type: string
          created_at?: string
          entity_id: string
          file_id: string
          id?: string
          job_id: string
          object_path: string
          sha256?: string | null
          size: number
          variant: string
        }
        Update: {
          bucket_id?: string
          content_type?: string
          created_at?: string
          entity_id?: string
          file_id?: string
          id?: string
          job_id?: string
          object_path?: string
          sha256?: string | null
          size?: number
          variant?: string
        }
        Relationships: [
          {
            foreignKeyName: "artifacts_entity_id_fkey"
            columns: ["entity_id"]
            isOneToOne: false
            referencedRelation: "entities"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "artifacts_file_id_fkey"
            columns: ["file_id"]
            isOneToOne: false
            referencedRelation: "entity_files"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "artifacts_job_id_fkey"
            columns: ["job_id"]
            isOneToOne: false
            referencedRelation: "jobs"
            referencedColumns: ["id"]
          },
        ]
      }
      entities: {
        Row: {
          attempt: number
          completed_at: string | null
          created_at: string
          failure_reason: string | null
          id: string
          idempotency_fingerprint: string | null
          idempotency_key: string | null
          kind: string
          metadata: Json
          owner_id: string
          status: Database["upload_lifecycle"]["Enums"]["upload_status"]
          status_changed_at: string
          updated_at: string
        }
        Insert: {
          attempt?: number
          completed_at?: string | null
          created_at?: string
          failure_reason?: string | null
          id?: string
          idempotency_fingerprint?: string | null
          idempotency_key?: string | null
          kind: string
          metadata?: Json
          owner_id?: string
          status?: Database["upload_lifecycle"]["Enums"]["upload_status"]
          status_changed_at?: string
          updated_at?: string
        }
        Update: {
          attempt?: number
          completed_at?: string | null
          created_at?: string
          failure_reason?: string | null
          id?: string
          idempotency_fingerprint?: string | null
          idempotency_key?: string | null
          kind?: string
          metadata?: Json
          owner_id?: string
          status?: Database["upload_lifecycle"]["Enums"]["upload_status"]
          status_changed_at?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "entities_kind_fkey"
            columns: ["kind"]
            isOneToOne: false
            referencedRelation: "entity_kinds"
            referencedColumns: ["kind"]
          },
          {
            foreignKeyName: "entities_owner_id_fkey"
            columns: ["owner_id"]
            isOneToOne: false
            referencedRelation: "users"
            referencedColumns: ["id"]
          },
        ]
      }
      entity_events: {
        Row: {
          actor_id: string | null
          actor_role: string
          attempt: number
          created_at: string
          detail: Json
          entity_id: string
          event: string
          from_status: Database["upload_lifecycle"]["Enums"]["upload_status"] | null
          id: number
          kind: string
          owner_id: string
          to_status: Database["upload_lifecycle"]["Enums"]["upload_status"] | null
        }
        Insert: {
          actor_id?: string | null
          actor_role: string
          attempt: number
          created_at?: string
          detail?: Json
          entity_id: string
          event: string
          from_status?: Database["upload_lifecycle"]["Enums"]["upload_status"] | null
          id?: never
          kind: string
          owner_id: string
          to_status?: Database["upload_lifecycle"]["Enums"]["upload_status"] | null
        }
        Update: {
          actor_id?: string | null
          actor_role?: string
          attempt?: number
          created_at?: string
          detail?: Json
          entity_id?: string
          event?: string
          from_status?: Database["upload_lifecycle"]["Enums"]["upload_status"] | null
          id?: never
          kind?: string
          owner_id?: string
          to_status?: Database["upload_lifecycle"]["Enums"]["upload_status"] | null
        }
        Relationships: []
      }
      entity_files: {
        Row: {
          bucket_id: string
          created_at: string
          declared_mime: string
          declared_size: number
          entity_id: string
          file_key: string
          id: string
          kind: string
          object_path: string
          original_name: string
          seq: number
          sha256: string | null
          slot: string
          verified_at: string | null
        }
        Insert: {
          bucket_id: string
          created_at?: string
          declared_mime: string
          declared_size: number
          entity_id: string
          file_key?: string
          id?: string
          kind: string
          object_path: string
          original_name: string
          seq?: never
          sha256?: string | null
          slot: string
          verified_at?: string | null
        }
        Update: {
          bucket_id?: string
          created_at?: string
          declared_mime?: string
          declared_size?: number
          entity_id?: string
          file_key?: string
          id?: string
          kind?: string
          object_path?: string
          original_name?: string
          seq?: never
          sha256?: string | null
          slot?: string
          verified_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "entity_files_entity_id_kind_fkey"
            columns: ["entity_id", "kind"]
            isOneToOne: false
            referencedRelation: "entities"
            referencedColumns: ["id", "kind"]
          },
          {
            foreignKeyName: "entity_files_kind_slot_fkey"
            columns: ["kind", "slot"]
            isOneToOne: false
            referencedRelation: "file_requirements"
            referencedColumns: ["kind", "slot"]
          },
        ]
      }
      entity_kinds: {
        Row: {
          bucket_id: string
          created_at: string
          draft_ttl: unknown
          failed_ttl: unknown
          kind: string
          max_attempts: number
          max_metadata_bytes: number
          max_unfinished_per_owner: number
          upload_ttl: unknown
        }
        Insert: {
          bucket_id: string
          created_at?: string
          draft_ttl?: unknown
          failed_ttl?: unknown
          kind: string
          max_attempts?: number
          max_metadata_bytes?: number
          max_unfinished_per_owner?: number
          upload_ttl?: unknown
        }
        Update: {
          bucket_id?: string
          created_at?: string
          draft_ttl?: unknown
          failed_ttl?: unknown
          kind?: string
          max_attempts?: number
          max_metadata_bytes?: number
          max_unfinished_per_owner?: number
          upload_ttl?: unknown
        }
        Relationships: []
      }
      failed_jobs: {
        Row: {
          entity_id: string
          error: Json | null
          events: Json
          failed_at: string
          id: string
          job: Json
          job_id: string
          processor: string
          requeued_at: string | null
        }
        Insert: {
          entity_id: string
          error?: Json | null
          events: Json
          failed_at?: string
          id?: string
          job: Json
          job_id: string
          processor: string
          requeued_at?: string | null
        }
        Update: {
          entity_id?: string
          error?: Json | null
          events?: Json
          failed_at?: string
          id?: string
          job?: Json
          job_id?: string
          processor?: string
          requeued_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "failed_jobs_entity_id_fkey"
            columns: ["entity_id"]
            isOneToOne: false
            referencedRelation: "entities"
            referencedColumns: ["id"]
          },
        ]
      }
      file_requirements: {
        Row: {
          allowed_mime_types: string[]
          kind: string
          max_bytes: number
          max_count: number
          min_count: number
          slot: string
        }
        Insert: {
          allowed_mime_types: string[]
          kind: string
          max_bytes: number
          max_count?: number
          min_count?: number
          slot: string
        }
        Update: {
          allowed_mime_types?: string[]
          kind?: string
          max_bytes?: number
          max_count?: number
          min_count?: number
          slot?: string
        }
        Relationships: [
          {
            foreignKeyName: "file_requirements_kind_fkey"
            columns: ["kind"]
            isOneToOne: false
            referencedRelation: "entity_kinds"
            referencedColumns: ["kind"]
          },
        ]
      }
      job_events: {
        Row: {
          actor_role: string | null
          attempt: number
          created_at: string
          entity_id: string
          error: Json | null
          event: string
          from_status: Database["upload_lifecycle"]["Enums"]["job_status"] | null
          id: number
          job_id: string
          to_status: Database["upload_lifecycle"]["Enums"]["job_status"]
          worker_id: string | null
        }
        Insert: {
          actor_role?: string | null
          attempt: number
          created_at?: string
          entity_id: string
          error?: Json | null
          event: string
          from_status?: Database["upload_lifecycle"]["Enums"]["job_status"] | null
          id?: never
          job_id: string
          to_status: Database["upload_lifecycle"]["Enums"]["job_status"]
          worker_id?: string | null
        }
        Update: {
          actor_role?: string | null
          attempt?: number
          created_at?: string
          entity_id?: string
          error?: Json | null
          event?: string
          from_status?: Database["upload_lifecycle"]["Enums"]["job_status"] | null
          id?: never
          job_id?: string
          to_status?: Database["upload_lifecycle"]["Enums"]["job_status"]
          worker_id?: string | null
        }
        Relationships: []
      }
      job_transitions: {
        Row: {
          actions: string[]
          event: string
          from_status: Database["upload_lifecycle"]["Enums"]["job_status"]
          guard: string | null
          to_status: Database["upload_lifecycle"]["Enums"]["job_status"]
        }
        Insert: {
          actions?: string[]
          event: string
          from_status: Database["upload_lifecycle"]["Enums"]["job_status"]
          guard?: string | null
          to_status: Database["upload_lifecycle"]["Enums"]["job_status"]
        }
        Update: {
          actions?: string[]
          event?: string
          from_status?: Database["upload_lifecycle"]["Enums"]["job_status"]
          guard?: string | null
          to_status?: Database["upload_lifecycle"]["Enums"]["job_status"]
        }
        Relationships: []
      }
      jobs: {
        Row: {
          attempt: number
          completed_at: string | null
          created_at: string
          entity_attempt: number
          entity_id: string
          file_id: string
          id: string
          last_error: Json | null
          lease_until: string | null
          max_attempts: number
          processor: string
          required: boolean
          result: Json | null
          run_after: string
          status: Database["upload_lifecycle"]["Enums"]["job_status"]
          status_changed_at: string
          updated_at: string
          worker_id: string | null
        }
        Insert: {
          attempt?: number
          completed_at?: string | null
          created_at?: string
          entity_attempt: number
          entity_id: string
          file_id: string
          id?: string
          last_error?: Json | null
          lease_until?: string | null
          max_attempts: number
          processor: string
          required: boolean
          result?: Json | null
          run_after?: string
          status?: Database["upload_lifecycle"]["Enums"]["job_status"]
          status_changed_at?: string
          updated_at?: string
          worker_id?: string | null
        }
        Update: {
          attempt?: number
          completed_at?: string | null
          created_at?: string
          entity_attempt?: number
          entity_id?: string
          file_id?: string
          id?: string
          last_error?: Json | null
          lease_until?: string | null
          max_attempts?: number
          processor?: string
          required?: boolean
          result?: Json | null
          run_after?: string
          status?: Database["upload_lifecycle"]["Enums"]["job_status"]
          status_changed_at?: string
          updated_at?: string
          worker_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "jobs_entity_id_fkey"
            columns: ["entity_id"]
            isOneToOne: false
            referencedRelation: "entities"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "jobs_file_id_fkey"
            columns: ["file_id"]
            isOneToOne: false
            referencedRelation: "entity_files"
            referencedColumns: ["id"]
          },
        ]
      }
      kind_processors: {
        Row: {
          created_at: string
          id: string
          kind: string
          max_attempts: number
          processor: string
          required: boolean
          slot: string | null
        }
        Insert: {
          created_at?: string
          id?: string
          kind: string
          max_attempts?: number
          processor: string
          required?: boolean
          slot?: string | null
        }
        Update: {
          created_at?: string
          id?: string
          kind?: string
          max_attempts?: number
          processor?: string
          required?: boolean
          slot?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "kind_processors_kind_fkey"
            columns: ["kind"]
            isOneToOne: false
            referencedRelation: "entity_kinds"
            referencedColumns: ["kind"]
          },
          {
            foreignKeyName: "kind_processors_kind_slot_fkey"
            columns: ["kind", "slot"]
            isOneToOne: false
            referencedRelation: "file_requirements"
            referencedColumns: ["kind", "slot"]
          },
        ]
      }
      share_tokens: {
        Row: {
          created_at: string
          entity_id: string
          expires_at: string | null
          id: string
          owner_id: string
          revoked_at: string | null
          token_hash: string
        }
        Insert: {
          created_at?: string
          entity_id: string
          expires_at?: string | null
          id?: string
          owner_id: string
          revoked_at?: string | null
          token_hash: string
        }
        Update: {
          created_at?: string
          entity_id?: string
          expires_at?: string | null
          id?: string
          owner_id?: string
          revoked_at?: string | null
          token_hash?: string
        }
        Relationships: [
          {
            foreignKeyName: "share_tokens_entity_id_fkey"
            columns: ["entity_id"]
            isOneToOne: false
            referencedRelation: "entities"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "share_tokens_owner_id_fkey"
            columns: ["owner_id"]
            isOneToOne: false
            referencedRelation: "users"
            referencedColumns: ["id"]
          },
        ]
      }
      storage_deletions: {
        Row: {
          attempts: number
          bucket_id: string
          claimed_at: string | null
          created_at: string
          done_at: string | null
          entity_id: string | null
          id: number
          last_error: string | null
          next_attempt_at: string
          object_path: string
          reason: string
        }
        Insert: {
          attempts?: number
          bucket_id: string
          claimed_at?: string | null
          created_at?: string
          done_at?: string | null
          entity_id?: string | null
          id?: never
          last_error?: string | null
          next_attempt_at?: string
          object_path: string
          reason: string
        }
        Update: {
          attempts?: number
          bucket_id?: string
          claimed_at?: string | null
          created_at?: string
          done_at?: string | null
          entity_id?: string | null
          id?: never
          last_error?: string | null
          next_attempt_at?: string
          object_path?: string
          reason?: string
        }
        Relationships: []
      }
      sweep_state: {
        Row: {
          dead_letter_retention: unknown
          id: boolean
          job_event_retention: unknown
          orphan_cursor_bucket: string | null
          orphan_cursor_name: string | null
          orphan_grace: unknown
          orphan_passes: number
          outbox_retention: unknown
          updated_at: string
        }
        Insert: {
          dead_letter_retention?: unknown
          id?: boolean
          job_event_retention?: unknown
          orphan_cursor_bucket?: string | null
          orphan_cursor_name?: string | null
          orphan_grace?: unknown
          orphan_passes?: number
          outbox_retention?: unknown
          updated_at?: string
        }
        Update: {
          dead_letter_retention?: unknown
          id?: boolean
          job_event_retention?: unknown
          orphan_cursor_bucket?: string | null
          orphan_cursor_name?: string | null
          orphan_grace?: unknown
          orphan_passes?: number
          outbox_retention?: unknown
          updated_at?: string
        }
        Relationships: []
      }
      transitions: {
        Row: {
          actions: string[]
          actors: string[]
          event: string
          from_status: Database["upload_lifecycle"]["Enums"]["upload_status"]
          guard: string | null
          to_status: Database["upload_lifecycle"]["Enums"]["upload_status"]
        }
        Insert: {
          actions?: string[]
          actors?: string[]
          event: string
          from_status: Database["upload_lifecycle"]["Enums"]["upload_status"]
          guard?: string | null
          to_status: Database["upload_lifecycle"]["Enums"]["upload_status"]
        }
        Update: {
          actions?: string[]
          actors?: string[]
          event?: string
          from_status?: Database["upload_lifecycle"]["Enums"]["upload_status"]
          guard?: string | null
          to_status?: Database["upload_lifecycle"]["Enums"]["upload_status"]
        }
        Relationships: []
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      actor_role: { Args: never; Returns: string }
      caller_may_write_object: { Args: { p_bucket_id: string; p_name: string }; Returns: boolean }
      caller_owns_artifact: { Args: { p_bucket_id: string; p_name: string }; Returns: boolean }
      completion_problems: { Args: { p_entity_id: string; p_require_verified: boolean }; Returns: string[] }
      initial_status: { Args: never; Returns: Database["upload_lifecycle"]["Enums"]["upload_status"] }
      is_lifecycle_bucket: { Args: { p_bucket_id: string }; Returns: boolean }
      mime_allowed: { Args: { mime: string; allowed: string[] }; Returns: boolean }
      object_is_final: { Args: { p_bucket_id: string; p_name: string }; Returns: boolean }
      processing_problems: { Args: { p_entity_id: string }; Returns: string[] }
      verify_setup: { Args: never; Returns: { check_name: string; ok: boolean; detail: string }[] }
    }
    Enums: {
      job_status: "pending" | "running" | "complete" | "failed" | "dead" | "cancelled"
      upload_status: "draft" | "uploading" | "processing" | "completed" | "failed"
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DefaultSchema = Database["public"]
type SchemaName = keyof Database

/** A table's row: `Tables<"x">` in public, or `Tables<{ schema: "upload_lifecycle" }, "entities">`. */
export type Tables<
  NameOrOptions extends keyof DefaultSchema["Tables"] | { schema: SchemaName },
  TableName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Tables"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Tables"][TableName] extends { Row: infer R }
    ? R
    : never
  : NameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][NameOrOptions] extends { Row: infer R }
      ? R
      : never
    : never

export type TablesInsert<
  NameOrOptions extends keyof DefaultSchema["Tables"] | { schema: SchemaName },
  TableName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Tables"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Tables"][TableName] extends { Insert: infer I }
    ? I
    : never
  : NameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][NameOrOptions] extends { Insert: infer I }
      ? I
      : never
    : never

export type TablesUpdate<
  NameOrOptions extends keyof DefaultSchema["Tables"] | { schema: SchemaName },
  TableName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Tables"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Tables"][TableName] extends { Update: infer U }
    ? U
    : never
  : NameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][NameOrOptions] extends { Update: infer U }
      ? U
      : never
    : never

export type Enums<
  NameOrOptions extends keyof DefaultSchema["Enums"] | { schema: SchemaName },
  EnumName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Enums"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Enums"][EnumName]
  : NameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][NameOrOptions]
    : never

/** Arguments and result of an RPC in public: `RpcArgs<"finalize_upload">`. */
export type RpcArgs<Name extends keyof DefaultSchema["Functions"]> = DefaultSchema["Functions"][Name] extends {
  Args: infer A
}
  ? A
  : never
export type RpcReturns<Name extends keyof DefaultSchema["Functions"]> = DefaultSchema["Functions"][Name] extends {
  Returns: infer R
}
  ? R
  : never

// JSON shapes the RPCs answer, declared with `@type` in the function comments (0021).
export type RegisteredFile = {
  file_id: string
  bucket_id: string
  object_path: string
  file_key: string
}

export type SharedUpload = {
  entity_id: string
  kind: string
  metadata: { [key: string]: Json | undefined }
  completed_at: string
  expires_at: string | null
  files: SharedUploadFile[]
}

export type SharedUploadFile = {
  file_id: string
  slot: string
  original_name: string
  size: number
  mime: string
  sha256: string | null
  bucket_id: string
  object_path: string
}

export type UploadArtifact = {
  variant: string
  bucket_id: string
  object_path: string
  size: number
  content_type: string
  sha256: string | null
}

export type UploadJobState = {
  job_id: string
  entity_id: string
  file_id: string
  processor: string
  required: boolean
  status: "pending" | "running" | "complete" | "failed" | "dead" | "cancelled"
  attempt: number
  max_attempts: number
  run_after: string
  last_error: Json | null
  result: Json | null
  entity_status: "draft" | "uploading" | "processing" | "completed" | "failed"
  artifacts: UploadArtifact[]
}

export type UploadPage = {
  uploads: UploadState[]
  next: string | null
}

export type UploadShare = {
  share_id: string
  entity_id: string
  token: string
  expires_at: string | null
}

export type UploadState = {
  entity_id: string
  kind: string
  status: "draft" | "uploading" | "processing" | "completed" | "failed"
  attempt: number
  max_attempts: number
  failure_reason: string | null
  metadata: { [key: string]: Json | undefined }
  created_at: string
  updated_at: string
  completed_at: string | null
  requirements: UploadStateRequirement[]
  files: UploadStateFile[]
  jobs: UploadStateJob[]
}

export type UploadStateFile = {
  file_id: string
  file_key: string
  slot: string
  original_name: string
  declared_size: number
  declared_mime: string
  sha256: string | null
  bucket_id: string
  object_path: string
  verified_at: string | null
  object_exists: boolean
  object_matches: boolean
}

export type UploadStateJob = {
  job_id: string
  file_id: string
  processor: string
  required: boolean
  status: "pending" | "running" | "complete" | "failed" | "dead" | "cancelled"
  attempt: number
  max_attempts: number
  last_error: Json | null
  artifacts: UploadArtifact[]
}

export type UploadStateRequirement = {
  slot: string
  min_count: number
  max_count: number
  max_bytes: number
  allowed_mime_types: string[]
}

/** What each RPC of `public` answers: the declared JSON shape where there is one (Database says `Json`). */
export type RpcResults = {
  begin_upload: UploadState
  claim_storage_deletions: Database["public"]["Functions"]["claim_storage_deletions"]["Returns"]
  claim_upload_jobs: Database["public"]["Functions"]["claim_upload_jobs"]["Returns"]
  complete_storage_deletions: Database["public"]["Functions"]["complete_storage_deletions"]["Returns"]
  complete_upload_job: Database["public"]["Functions"]["complete_upload_job"]["Returns"]
  create_upload_draft: UploadState
  create_upload_share: UploadShare
  delete_upload: Database["public"]["Functions"]["delete_upload"]["Returns"]
  extend_upload_job_leases: Database["public"]["Functions"]["extend_upload_job_leases"]["Returns"]
  fail_storage_deletions: Database["public"]["Functions"]["fail_storage_deletions"]["Returns"]
  fail_upload: UploadState
  fail_upload_job: Database["public"]["Functions"]["fail_upload_job"]["Returns"]
  finalize_upload: UploadState
  get_shared_upload: SharedUpload
  get_upload_state: UploadState
  list_uploads: UploadPage
  register_upload_file: RegisteredFile
  register_upload_files: UploadState
  remove_upload_file: UploadState
  requeue_failed_upload_job: Database["public"]["Functions"]["requeue_failed_upload_job"]["Returns"]
  retry_upload: UploadState
  revoke_upload_share: Database["public"]["Functions"]["revoke_upload_share"]["Returns"]
  start_upload: UploadState
  sweep_upload_lifecycle: Database["public"]["Functions"]["sweep_upload_lifecycle"]["Returns"]
}

export const Constants = {
  public: {
    Enums: {
    },
  },
  upload_lifecycle: {
    Enums: {
      job_status: ["pending", "running", "complete", "failed", "dead", "cancelled"],
      upload_status: ["draft", "uploading", "processing", "completed", "failed"],
    },
  },
} as const
