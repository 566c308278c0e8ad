import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QueryCanceledError, TaskError } from '../../protocol/cluster/ClusterError.js';
import type { TaskFailure } from '../../protocol/cluster/messages.js';
import { workerFault } from '../../src/distributed/workerFault.js';

const failed = (...failures: TaskFailure[]) => new TaskError('q1', 2, failures);

// duckdb/duckdb#26000 as a worker reports it: DuckDB's own message, class first.
const BINDING =
  'INTERNAL Error: Failed to bind column reference "k" [0.1] (bindings: {#[21.0]})\nThis error signals an assertion failure within DuckDB.';

test('a DuckDB INTERNAL or FATAL error in a task is the workers’ fault: the query runs on the coordinator', () => {
  assert.equal(workerFault(failed({ kind: 'sql', message: BINDING })), { kind: 'sql', message: BINDING });
  const fatal = 'FATAL Error: database has been invalidated because of a previous fatal error.';
  assert.equal(workerFault(failed({ kind: 'sql', message: fatal }))?.message, fatal);
});

test('a failure of the worker process itself (not of its SQL) is the workers’ fault too', () => {
  const crash = { kind: 'internal' as const, message: "Cannot read properties of undefined (reading 'x')" };
  assert.equal(workerFault(failed(crash, crash, crash, crash)), crash);
});

test('SQL errors the coordinator would raise as well stand, as do cancels, refusals and lost workers', () => {
  for (const message of [
    'Binder Error: Referenced column "nope" not found in FROM clause!',
    'Invalid Input Error: INTERNAL Error: raised by error() in the query itself',
    "Conversion Error: Could not convert string 'x' to INT32",
    'Out of Range Error: Overflow in multiplication of INT32 (1000000 * 1000000)!',
  ]) {
    assert.is(workerFault(failed({ kind: 'sql', message })), null, message);
  }
  assert.is(
    workerFault(failed({ kind: 'rejected', message: 'a task must be a single SELECT statement' })),
    null,
  );
  assert.is(
    workerFault(failed({ kind: 'canceled', message: 'canceling statement due to user request' })),
    null,
  );
  assert.is(workerFault(failed({ kind: 'lost', message: 'worker w1 died' })), null);
  assert.is(workerFault(failed({ kind: 'deadline', message: 'task ran past its deadline of 10 ms' })), null);
});

test('only the attempt that failed the query counts, and only task errors are considered', () => {
  // Lost on one worker, then a plain SQL error on the next: the SQL error is what the client would see.
  const lostThenSql = failed(
    { kind: 'sql', message: BINDING },
    { kind: 'sql', message: 'Binder Error: Referenced column "nope" not found in FROM clause!' },
  );
  assert.is(workerFault(lostThenSql), null);
  assert.is(workerFault(new QueryCanceledError()), null);
  assert.is(workerFault(new Error(BINDING)), null);
  assert.is(workerFault(failed()), null);
});

test.run();
