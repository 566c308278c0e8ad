import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  listValue,
  StatementType,
} from '@duckdb/node-api';
import type * as arrow from 'apache-arrow';
import { encodeControl } from '../protocol/cluster/controlCodec.js';
import {
  CLUSTER_PROTOCOL_VERSION,
  type ExecutionRecord,
  SHUFFLE_DIR,
  type TaskAssignment,
  type TaskDefinition,
  type TaskFailure,
  type TaskFailureKind,
} from '../protocol/cluster/messages.js';
import { encodeResultFrames, FRAME_HEADER_BYTES, sealSingleFrame } from '../protocol/cluster/resultFrames.js';
import type { ClusterSubjects } from '../protocol/cluster/subjects.js';
import { quoteIdent, quoteLiteral } from '../protocol/cluster/taskDialect.js';
import { ArrowChunkEncoder, travelsAsText } from './ArrowChunkEncoder.js';
import { CreditGate } from './CreditGate.js';
import { IpcBatchWriter } from './IpcBatchWriter.js';
import type { StatementCache } from './StatementCache.js';
import { runTableWrite, TableWriteRejected } from './TableWriteTask.js';

/** What a task needs from the worker that runs it. */
export interface TaskEnvironment {
  workerId: string;
  dataDir: string;
  subjects: ClusterSubjects;
  /** Publishes on the cluster, or does nothing once the worker was aborted. */
  publish(subject: string, data: Uint8Array): void;
  maxPayload(): number;
  /** The statements the task's connection keeps prepared, for plain SELECT tasks; none when absent. */
  statements?: StatementCache;
}

/** Why an attempt was stopped from outside; the kind its record ends with. */
type StopKind = Extract<TaskFailureKind, 'canceled' | 'deadline' | 'handed-back'>;

class StoppedError extends Error {
  readonly kind: StopKind;
  constructor(kind: StopKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

class RejectedError extends Error {}

/**
 * One attempt of one task on one DuckDB connection: checks it, runs it, streams its result as Arrow IPC
 * batches within its credits, and reports a TaskStatus when it starts and when it ends.
 *
 * The statement runs to completion inside DuckDB before its rows are read (a materialized result, which
 * DuckDB's buffer manager may spill), and rows leave only as credits allow. Streaming execution would pause
 * DuckDB itself, but @duckdb/node-api 1.5 ends a streaming result that fails midway exactly like one that
 * finished, so a runtime error would silently drop rows; a materialized result reports it.
 */
export class TaskExecution {
  readonly task: TaskDefinition;
  readonly record: ExecutionRecord;
  private readonly env: TaskEnvironment;
  private readonly connection: DuckDBConnection;
  private readonly gate: CreditGate;
  private readonly batchBytes: number;
  private stop: StoppedError | null = null;
  /** Writes the result's messages; set once the result's columns are known. */
  private writer: IpcBatchWriter | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** The statement taken from the connection's cache, which goes back to it once the attempt ends. */
  private cached: DuckDBPreparedStatement | undefined;

  constructor(env: TaskEnvironment, connection: DuckDBConnection, assignment: TaskAssignment) {
    this.env = env;
    this.connection = connection;
    this.task = assignment.task;
    this.gate = new CreditGate(assignment.credits);
    this.batchBytes = Math.max(1, assignment.batchBytes);
    this.record = {
      queryId: this.task.queryId,
      taskId: this.task.taskId,
      totalTasks: this.task.totalTasks,
      workerId: env.workerId,
      attempt: this.task.attempt,
      rows: 0,
      bytes: 0,
      batches: 0,
      queueMs: assignment.queuedMs,
      execMs: 0,
      startedAt: Date.now(),
      endedAt: 0,
      status: 'running',
    };
  }

  /** True for the attempt a CreditGrant or a Cancel names. */
  is(queryId: string, taskId?: number, attempt?: number): boolean {
    return (
      this.task.queryId === queryId &&
      (taskId === undefined || taskId === this.task.taskId) &&
      (attempt === undefined || attempt === this.task.attempt)
    );
  }

  /** Raises the attempt's credit limit (cumulative batches it may send). */
  grant(limit: number): void {
    this.gate.grant(limit);
  }

  /**
   * Stops the attempt: interrupts DuckDB if the statement is running and fails a send waiting for credit.
   * The attempt then ends with a record of this kind.
   */
  halt(kind: StopKind, message: string): void {
    if (this.stop || this.record.status !== 'running') return;
    this.stop = new StoppedError(kind, message);
    this.gate.stop(this.stop);
    this.connection.interrupt();
  }

  /** Runs the attempt to its end; never rejects. The returned record is final. */
  async run(): Promise<ExecutionRecord> {
    this.report('running');
    if (this.task.deadlineMs > 0) {
      this.deadlineTimer = setTimeout(
        () => this.halt('deadline', `task ran past its deadline of ${this.task.deadlineMs} ms`),
        this.task.deadlineMs,
      );
    }
    let prepared: DuckDBPreparedStatement | undefined;
    try {
      const files = this.resolveFiles();
      // A plain SELECT task (the kind a query sends again) takes its statement from the connection's cache.
      const cache =
        this.task.writes === undefined && this.task.load === undefined ? this.env.statements : undefined;
      prepared = cache ? await cache.take(this.task.sql) : await this.connection.prepare(this.task.sql);
      this.cached = cache ? prepared : undefined;
      if (prepared.statementType !== StatementType.SELECT) {
        throw new RejectedError('a task must be a single SELECT statement');
      }
      this.bindParameters(prepared, files);
      this.throwIfStopped();
      let result: DuckDBMaterializedResult;
      if (this.task.writes !== undefined) {
        // A shuffle write: the SELECT's rows go to the file, and its one row (Count) comes back.
        prepared.destroySync();
        prepared = undefined;
        const target = this.resolveShuffleFile(this.task.writes);
        result = await this.connection.run(
          `COPY (${this.task.sql}) TO ${quoteLiteral(target)} (FORMAT parquet)`,
          files.length ? { files: listValue(files) } : undefined,
        );
      } else if (this.task.load !== undefined) {
        // A table write: the rows go to new table files, and their list comes back as one row.
        prepared.destroySync();
        prepared = undefined;
        result = await runTableWrite(
          this.connection,
          this.env.dataDir,
          this.task.sql,
          this.task.load,
          this.task,
          files,
        );
      } else result = await prepared.run();
      this.throwIfStopped();
      // Columns that travel as text are rendered by DuckDB itself (see travelsAsText): the statement runs
      // again wrapped to cast them, and the encoder still labels them with their own types. (Their types
      // are known only once run: a statement over `$files` binds its table function with the value.)
      const types = result.columnTypes();
      if (prepared && types.some(travelsAsText)) {
        const names = result.columnNames();
        const select = types.map((t, i) => {
          const name = quoteIdent(names[i]!);
          return travelsAsText(t) ? `CAST(#${i + 1} AS VARCHAR) AS ${name}` : `#${i + 1} AS ${name}`;
        });
        const wrapped = await this.connection.prepare(`SELECT ${select.join(', ')} FROM (${this.task.sql})`);
        this.release(prepared);
        prepared = wrapped;
        this.bindParameters(prepared, files);
        this.throwIfStopped();
        result = await prepared.run();
        this.throwIfStopped();
      }
      const encoder = new ArrowChunkEncoder(result.deduplicatedColumnNames(), types);
      this.writer = new IpcBatchWriter(encoder.schema);
      // A batch that fits one frame travels as one message and is handed on by the coordinator without a
      // copy; one over it is split into frames and reassembled.
      const frameRoom = this.env.maxPayload() - FRAME_HEADER_BYTES;
      const columns = result.columnCount;
      let pending: arrow.RecordBatch[] = [];
      let pendingBytes = 0;
      // The result is materialized: its chunks are read synchronously, without a thread-pool round trip
      // per chunk (which cost more than encoding the chunk). The event loop gets a turn every few chunks so
      // that credits, cancels and heartbeats are handled.
      const chunkCount = result.chunkCount;
      for (let c = 0; c < chunkCount; c++) {
        if (c % CHUNKS_PER_TURN === CHUNKS_PER_TURN - 1) await nextTurn();
        this.throwIfStopped();
        const chunk = result.getChunk(c);
        if (chunk.rowCount === 0) continue;
        const { batch, bytes } = encoder.encode(chunk);
        if (pending.length > 0 && pendingBytes + bytes + ipcOverhead(columns) > frameRoom) {
          await this.send(pending);
          pending = [];
          pendingBytes = 0;
        }
        pending.push(batch);
        pendingBytes += bytes;
        this.record.rows += batch.numRows;
        if (pendingBytes >= this.batchBytes) {
          await this.send(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pending.length > 0) await this.send(pending);
      this.finish('succeeded');
    } catch (err) {
      this.finish('failed', this.failureOf(err));
    } finally {
      clearTimeout(this.deadlineTimer);
      if (prepared) this.release(prepared);
    }
    return this.record;
  }

  /** A shuffle file's absolute path, which must lie under the data directory's SHUFFLE_DIR. */
  private resolveShuffleFile(file: string): string {
    const root = resolve(this.env.dataDir, SHUFFLE_DIR);
    const path = resolve(this.env.dataDir, file);
    const within = relative(root, path);
    if (within === '' || within.startsWith('..') || isAbsolute(within)) {
      throw new RejectedError(`shuffle file ${file} lies outside ${root}`);
    }
    mkdirSync(dirname(path), { recursive: true });
    return path;
  }

  /** Partition files resolved inside this worker's data directory; anything outside is refused. */
  private resolveFiles(): string[] {
    return this.task.partition.files.map((file) => {
      const path = resolve(this.env.dataDir, file);
      const within = relative(this.env.dataDir, path);
      if (within.startsWith('..') || isAbsolute(within)) {
        throw new RejectedError(`partition file ${file} lies outside the data directory`);
      }
      return path;
    });
  }

  /** Gives a statement taken from the connection's cache back to it; destroys any other. */
  private release(statement: DuckDBPreparedStatement): void {
    if (statement === this.cached) this.env.statements!.give(this.task.sql, statement);
    else statement.destroySync();
  }

  /** `$files` is the only parameter a task statement may have. */
  private bindParameters(prepared: DuckDBPreparedStatement, files: string[]): void {
    if (prepared.parameterCount === 0) return;
    for (let i = 1; i <= prepared.parameterCount; i++) {
      const name = prepared.parameterName(i);
      if (name !== 'files') throw new RejectedError(`task statements take only $files, not $${name}`);
    }
    prepared.bind({ files: listValue(files) });
  }

  private throwIfStopped(): void {
    if (this.stop) throw this.stop;
  }

  /** Spends a credit (waiting for one if needed), then publishes the batches as one IPC record batch's frames. */
  private async send(batches: arrow.RecordBatch[]): Promise<void> {
    await this.gate.take();
    this.throwIfStopped();
    // The chunks joined into one IPC record batch, written after room for the frame header.
    const message = this.writer!.write(batches, FRAME_HEADER_BYTES);
    const ipc = message.subarray(FRAME_HEADER_BYTES);
    const maxPayload = this.env.maxPayload();
    const single = sealSingleFrame(message, this.record.batches, maxPayload);
    const subject = this.env.subjects.result(this.task.queryId, this.task.taskId, this.task.attempt);
    for (const frame of single ? [single] : encodeResultFrames(ipc, this.record.batches, maxPayload)) {
      this.env.publish(subject, frame);
    }
    this.record.batches++;
    this.record.bytes += ipc.byteLength;
  }

  private failureOf(err: unknown): TaskFailure {
    if (this.stop) return { kind: this.stop.kind, message: this.stop.message };
    const message = err instanceof Error ? err.message : String(err);
    const kind: TaskFailureKind =
      err instanceof RejectedError || err instanceof TableWriteRejected
        ? 'rejected'
        : isDuckDBError(err)
          ? 'sql'
          : 'internal';
    return { kind, message };
  }

  private finish(state: 'succeeded' | 'failed', error?: TaskFailure): void {
    this.record.endedAt = Date.now();
    this.record.execMs = this.record.endedAt - this.record.startedAt;
    this.record.status =
      state === 'succeeded' ? 'succeeded' : error?.kind === 'canceled' ? 'canceled' : 'failed';
    if (error) this.record.error = error;
    this.report(state);
  }

  private report(state: 'running' | 'succeeded' | 'failed'): void {
    const subject = this.env.subjects.status(this.task.queryId);
    if (state === 'running') this.record.execMs = 0;
    this.env.publish(
      subject,
      encodeControl<'status'>({
        version: CLUSTER_PROTOCOL_VERSION,
        kind: 'status',
        state,
        record: this.record,
      }),
    );
  }
}

/** Chunks encoded between two turns of the event loop. */
const CHUNKS_PER_TURN = 16;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A generous estimate of what Arrow IPC adds to the buffers of one record batch: the schema message (names
 * and DuckDB types), the batch's header (a node and up to three buffers per column), 8-byte padding and the
 * end-of-stream marker.
 */
function ipcOverhead(columns: number): number {
  return 2048 + columns * 512;
}

/** DuckDB's errors carry their class in the message ("Binder Error: ..."). */
function isDuckDBError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const at = err.message.indexOf(' Error: ');
  return at > 0 && at < 40;
}
