/**
 * `upload-lifecycle/worker`: processing workers (issue 15). A long-running worker for a Node
 * process (`runWorker`), the same as a web handler for a Supabase Edge Function
 * (`createProcessingHandler`), the built-in processors and `defineProcessor` for your own.
 */
export {
  defineProcessor,
  ProcessingRejectedError,
  sha256Hex,
  type ArtifactRecord,
  type JobError,
  type ProcessingJob,
  type ProcessingPort,
  type Processor,
  type ProcessorContext,
  type ProcessorOutcome,
  type Worker,
  type WorkerOptions,
  type WorkerReport,
} from './processing.js';
export { runWorker, type RunWorkerOptions } from './run.js';
export { sha256Processor, typeProcessor } from './builtin.js';
export { thumbnailProcessor, type ThumbnailOptions } from './thumbnail.js';
export {
  sqlProcessingPort,
  supabaseProcessingPort,
  type ProcessingAdminClient,
  type ProcessingObjectStore,
} from './ports.js';
export { createProcessingHandler, type ProcessingHandlerOptions } from './handler.js';
