/**
 * The coordinator ↔ worker contract: every control message that crosses the transport, as plain
 * serializable data. Control messages travel as JSON (encodeControl / decodeControl); result data travels
 * as Arrow IPC stream bytes split into frames (encodeResultFrames / ResultFrameAssembler).
 *
 * Every message carries `version` (the protocol version, CLUSTER_PROTOCOL_VERSION) and a `kind`
 * discriminator, so a peer built from another release is recognised and refused instead of misread.
 */

/** The protocol version spoken by this build. Bumped on any incompatible change to a message. */
export const CLUSTER_PROTOCOL_VERSION = 1;

/**
 * A contiguous range of row groups of one Parquet file. Carried for the planner's bookkeeping and the
 * execution record; the task's SQL applies it itself (DuckDB's read_parquet has no row-group argument).
 */
export interface RowGroupRange {
  file: string;
  /** First row group, inclusive. */
  first: number;
  /** Last row group, inclusive. */
  last: number;
}

/** The slice of the shared data directory one task covers. */
export interface Partition {
  /**
   * Parquet files, relative to the worker's data directory (absolute paths must lie inside it). The worker
   * resolves them against its own `--data` directory, so the shared storage may be mounted at different
   * paths on different machines, and binds the list to the statement's `$files` parameter.
   */
  files: string[];
  rowGroups?: RowGroupRange[];
}

/** One unit of work: a single SQL statement over one partition. Tasks and attempts are plain data. */
export interface TaskDefinition {
  version: number;
  kind: 'task';
  queryId: string;
  /** 0-based index of the task within its query. */
  taskId: number;
  /** 1 for the first run; each retry (worker death, drain, deadline, failure) runs attempt + 1. */
  attempt: number;
  totalTasks: number;
  /** Exactly one SELECT statement. It may reference `$files`, bound to the partition's files. */
  sql: string;
  partition: Partition;
  /** The time budget of one attempt in milliseconds, measured by the worker from its start; 0 = none. */
  deadlineMs: number;
  /**
   * A shuffle write: instead of streaming its rows back, the worker writes the SELECT's rows to this
   * Parquet file (`COPY (<sql>) TO '<writes>' (FORMAT parquet)`, overwriting an earlier attempt's) and
   * returns the COPY's one row, `Count BIGINT`. The path must lie inside the worker's data directory,
   * under SHUFFLE_DIR.
   */
  writes?: string;
  /**
   * A table write (a parallel load): the worker writes the SELECT's rows as Parquet files into a new
   * directory and returns one row, `written VARCHAR`, a JSON list of WrittenTableFile.
   */
  load?: TableWrite;
}

/** The folder of the data directory that shuffle files are written under (one folder per query). */
export const SHUFFLE_DIR = 'shuffle';

/** The folder of the data directory that table files are written under (`tables/<table>/<write>/`). */
export const TABLES_DIR = 'tables';

/**
 * How a worker writes a load task's rows: `COPY (<sql>) TO '<dir>/t<task>a<attempt>' (FORMAT parquet,
 * ..., RETURN_STATS)`. Each task and attempt writes its own folder, so tasks of one write share its
 * directory and a retry never mixes with what an earlier attempt left; the coordinator keeps the
 * succeeded attempts' files and removes the others.
 */
export interface TableWrite {
  /** The write's folder, relative to the data directory; it must lie under TABLES_DIR. */
  dir: string;
  /** Parquet compression codec (`snappy`, `zstd`, ...). */
  compression: string;
  rowGroupSize: number;
  /** Balanced files: row groups per file. */
  rowGroupsPerFile?: number;
  /** Bucketed files: the SELECT column holding each row's bucket (one folder `<column>=<n>` per bucket). */
  partitionBy?: string;
}

/** One file a table write produced, fsynced with its folders before the task reported success. */
export interface WrittenTableFile {
  /** Relative to the data directory, '/'-separated. */
  path: string;
  rows: number;
  bytes: number;
  /** The bucket of a partitioned write, else null. */
  bucket: number | null;
  /** Parquet statistics per top-level column (by its quoted name): min, max and null_count as text. */
  columns: Record<string, Record<string, string>>;
}

/** What a coordinator hands a worker that claimed work: the task plus its initial flow-control budget. */
export interface TaskAssignment {
  task: TaskDefinition;
  /** Result batches the worker may send before waiting for a CreditGrant (the first limit). */
  credits: number;
  /** Target size of one result batch's Arrow IPC bytes; the worker cuts a batch once it reaches it. */
  batchBytes: number;
  /** How long the attempt waited in the coordinator's queue, for the execution record. */
  queuedMs: number;
}

/** How a task attempt ended when it did not succeed. */
export type TaskFailureKind =
  /** DuckDB reported an error while preparing or running the statement. */
  | 'sql'
  /** The worker refused the task before running it (bad partition path, not a single SELECT, ...). */
  | 'rejected'
  /** Stopped by a Cancel for its query (CancelRequest, statement_timeout, client disconnect). */
  | 'canceled'
  /** Ran past its deadline. */
  | 'deadline'
  /** The worker gave the task back unfinished (drain timeout, shutdown). */
  | 'handed-back'
  /** The coordinator lost the attempt: worker death, lost result frames, unacknowledged claim. */
  | 'lost'
  /** Anything else that went wrong inside the worker. */
  | 'internal';

export interface TaskFailure {
  kind: TaskFailureKind;
  message: string;
}

/** The record every task attempt ends with; the rows of `mallard_tasks`. */
export interface ExecutionRecord {
  queryId: string;
  taskId: number;
  totalTasks: number;
  workerId: string;
  attempt: number;
  /** Rows and Arrow IPC bytes produced so far (final once the status is not `running`). */
  rows: number;
  bytes: number;
  /** Result batches sent; the coordinator commits a task only once it has received all of them. */
  batches: number;
  /** Time the attempt waited before a worker started it. */
  queueMs: number;
  /** Time from the worker starting the attempt to its end (or to now, while running). */
  execMs: number;
  /** Wall-clock start and end on the worker, epoch milliseconds (end is 0 while running). */
  startedAt: number;
  endedAt: number;
  status: 'running' | 'succeeded' | 'failed' | 'canceled';
  error?: TaskFailure;
}

/** A worker's report on one attempt: sent when it starts and when it ends. */
export interface TaskStatus {
  version: number;
  kind: 'status';
  state: 'running' | 'succeeded' | 'failed';
  record: ExecutionRecord;
}

/**
 * Permission for one attempt to send result batches until it has sent `limit` in all. The limit is
 * cumulative, not an increment, so a repeated grant is harmless and a lost one is made good by the next.
 */
export interface CreditGrant {
  version: number;
  kind: 'credit';
  queryId: string;
  taskId: number;
  attempt: number;
  limit: number;
}

/**
 * Stop work. Without taskId it cancels every task of the query on every worker; with taskId and attempt it
 * stops one superseded attempt (deadline, or retried elsewhere).
 */
export interface Cancel {
  version: number;
  kind: 'cancel';
  queryId: string;
  taskId?: number;
  attempt?: number;
  reason: string;
}

/** A worker's announcement, every second. Its first heartbeat is how a worker joins the cluster. */
export interface Heartbeat {
  version: number;
  kind: 'heartbeat';
  id: string;
  host: string;
  pid: number;
  /** The worker's Mallard release. */
  workerVersion: string;
  /** `ready` takes tasks; `draining` finishes what it holds; `stopped` is the last heartbeat it sends. */
  state: 'ready' | 'draining' | 'stopped';
  threads: number;
  memoryUsed: number;
  memoryLimit: number;
  runningTasks: number;
  tasksDone: number;
  /**
   * The attempts the worker holds right now. The coordinator reconciles against it: an attempt it believes
   * running that the worker no longer holds had its final report lost (delivery is at most once), and is
   * retried instead of waited on forever.
   */
  tasks: HeldAttempt[];
  /** The worker's heartbeat period; the registry's liveness check is a multiple of it. */
  intervalMs: number;
}

export interface HeldAttempt {
  queryId: string;
  taskId: number;
  attempt: number;
  /** Result batches sent so far; more than the coordinator received, for long, means frames were lost. */
  batches: number;
}

/** Ask workers (all, or the one named) to drain: stop claiming and finish the tasks they hold. */
export interface Drain {
  version: number;
  kind: 'drain';
  workerId?: string;
}

/** A coordinator announcing it has tasks waiting; idle workers answer with a ClaimRequest. */
export interface TaskOffer {
  version: number;
  kind: 'offer';
  coordinatorId: string;
  pending: number;
}

/** A worker asking a coordinator for up to `slots` tasks (request/reply). */
export interface ClaimRequest {
  version: number;
  kind: 'claim';
  workerId: string;
  slots: number;
}

/** The coordinator's answer: each assignment is handed to exactly this worker, once. */
export interface ClaimReply {
  version: number;
  kind: 'claim-reply';
  assignments: TaskAssignment[];
}

/** Every JSON control message, keyed by its `kind`. */
export interface ControlMessages {
  task: TaskDefinition;
  status: TaskStatus;
  credit: CreditGrant;
  cancel: Cancel;
  heartbeat: Heartbeat;
  drain: Drain;
  offer: TaskOffer;
  claim: ClaimRequest;
  'claim-reply': ClaimReply;
}

export type ControlKind = keyof ControlMessages;
export type ControlMessage = ControlMessages[ControlKind];
