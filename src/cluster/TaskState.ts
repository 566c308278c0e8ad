import type { Partition, TableWrite, TaskFailure } from '../../protocol/cluster/messages.js';

/** One task as the planner hands it over: a SELECT over a partition. */
export interface QueryTask {
  /** One SELECT statement; it may use `$files`, bound to the partition's files by the worker. */
  sql: string;
  partition: Partition;
  /** Per-attempt time budget in ms; the client's default (none) when absent. */
  deadlineMs?: number;
  /** A shuffle write: the file the task's rows go to (see TaskDefinition.writes). */
  writes?: string;
  /** A table write: the folder and options the task's rows are written with (see TaskDefinition.load). */
  load?: TableWrite;
}

/** Where a task stands. Only the current attempt counts; earlier ones are superseded. */
export type TaskPhase = 'pending' | 'assigned' | 'running' | 'succeeded' | 'failed';

/** The coordinator's view of one task across its attempts. */
export interface TaskState {
  readonly queryId: string;
  readonly taskId: number;
  readonly spec: QueryTask;
  /** The current attempt, from 1. */
  attempt: number;
  phase: TaskPhase;
  /** The worker holding the current attempt (assigned or running). */
  workerId: string | undefined;
  /** Round-robin mode: the worker this attempt is statically assigned to. */
  assignedTo: string | undefined;
  /** When the current attempt entered the queue, and when a worker claimed it (epoch ms). */
  enqueuedAt: number;
  claimedAt: number;
  /** Every failed attempt so far, oldest first. */
  failures: TaskFailure[];
  /** Workers an earlier attempt failed on; a retry goes elsewhere while another worker is ready. */
  triedOn: string[];
}
