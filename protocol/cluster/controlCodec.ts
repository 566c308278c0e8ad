import { ClusterProtocolError } from './ClusterError.js';
import { CLUSTER_PROTOCOL_VERSION, type ControlKind, type ControlMessages } from './messages.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Control messages are small and rare next to result data, so JSON keeps them readable on the wire. */
export function encodeControl<K extends ControlKind>(message: ControlMessages[K]): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

type FieldType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'string?' | 'number?' | 'object?';

/**
 * The fields each kind must carry. A worker executes what it decodes, so a message missing a field or
 * carrying one of the wrong type is refused here rather than half-run.
 */
const SHAPES: { [K in ControlKind]: Record<string, FieldType> } = {
  task: {
    queryId: 'string',
    taskId: 'number',
    attempt: 'number',
    totalTasks: 'number',
    sql: 'string',
    partition: 'object',
    deadlineMs: 'number',
  },
  status: { state: 'string', record: 'object' },
  credit: { queryId: 'string', taskId: 'number', attempt: 'number', limit: 'number' },
  cancel: { queryId: 'string', taskId: 'number?', attempt: 'number?', reason: 'string' },
  heartbeat: {
    id: 'string',
    host: 'string',
    pid: 'number',
    workerVersion: 'string',
    state: 'string',
    threads: 'number',
    memoryUsed: 'number',
    memoryLimit: 'number',
    runningTasks: 'number',
    tasksDone: 'number',
    tasks: 'array',
    intervalMs: 'number',
  },
  drain: { workerId: 'string?' },
  offer: { coordinatorId: 'string', pending: 'number' },
  claim: { workerId: 'string', slots: 'number' },
  'claim-reply': { assignments: 'array' },
};

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'object?':
      return value === undefined || hasType(value, 'object');
    case 'string?':
      return value === undefined || typeof value === 'string';
    case 'number?':
      return value === undefined || (typeof value === 'number' && Number.isFinite(value));
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

/** Throws ClusterProtocolError unless `value` has every field of `kind` with the right type. */
export function checkControl<K extends ControlKind>(value: unknown, kind: K): ControlMessages[K] {
  if (typeof value !== 'object' || value === null) throw new ClusterProtocolError(`${kind}: not an object`);
  const message = value as Record<string, unknown>;
  if (message['version'] !== CLUSTER_PROTOCOL_VERSION) {
    throw new ClusterProtocolError(
      `${kind}: protocol version ${String(message['version'])}, this build speaks ${CLUSTER_PROTOCOL_VERSION}`,
    );
  }
  if (message['kind'] !== kind) {
    throw new ClusterProtocolError(`expected a ${kind} message, got ${String(message['kind'])}`);
  }
  for (const [field, type] of Object.entries(SHAPES[kind])) {
    if (!hasType(message[field], type))
      throw new ClusterProtocolError(`${kind}: field ${field} is not ${type}`);
  }
  if (kind === 'task') {
    checkPartition(message['partition'] as Record<string, unknown>);
    if (message['writes'] !== undefined && typeof message['writes'] !== 'string')
      throw new ClusterProtocolError('task: field writes is not a string');
    if (message['load'] !== undefined) checkTableWrite(message['load']);
  }
  if (kind === 'claim-reply') {
    for (const assignment of message['assignments'] as unknown[]) {
      if (typeof assignment !== 'object' || assignment === null) {
        throw new ClusterProtocolError('claim-reply: assignment is not an object');
      }
      const a = assignment as Record<string, unknown>;
      for (const field of ['credits', 'batchBytes', 'queuedMs']) {
        if (!hasType(a[field], 'number'))
          throw new ClusterProtocolError(`claim-reply: ${field} is not a number`);
      }
      checkControl(a['task'], 'task');
    }
  }
  return value as ControlMessages[K];
}

function checkTableWrite(load: unknown): void {
  if (typeof load !== 'object' || load === null)
    throw new ClusterProtocolError('task: load is not an object');
  const l = load as Record<string, unknown>;
  const shape: Record<string, FieldType> = {
    dir: 'string',
    compression: 'string',
    rowGroupSize: 'number',
    rowGroupsPerFile: 'number?',
    partitionBy: 'string?',
  };
  for (const [field, type] of Object.entries(shape)) {
    if (!hasType(l[field], type)) throw new ClusterProtocolError(`task: load.${field} is not ${type}`);
  }
}

function checkPartition(partition: Record<string, unknown>): void {
  const files = partition['files'];
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
    throw new ClusterProtocolError('task: partition.files is not a list of strings');
  }
  const rowGroups = partition['rowGroups'];
  if (rowGroups !== undefined && !Array.isArray(rowGroups)) {
    throw new ClusterProtocolError('task: partition.rowGroups is not a list');
  }
}

/** Parses and checks one control message of the expected kind; throws ClusterProtocolError otherwise. */
export function decodeControl<K extends ControlKind>(bytes: Uint8Array, kind: K): ControlMessages[K] {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new ClusterProtocolError(`${kind}: not JSON`, { cause });
  }
  return checkControl(value, kind);
}
