import { PgError } from '../../protocol/pg/PgError.js';
import type { DistributedRuntime } from '../distributed/DistributedRuntime.js';
import type { Engine } from '../executor/Engine.js';
import type { SessionExecutor } from '../executor/Executor.js';
import { SessionSettings } from '../sql/SessionSettings.js';
import type { SqlParser } from '../sql/SqlParser.js';
import type { TableStorage } from '../storage/TableStorage.js';
import { TableExecutor, type TableExecutorOptions } from '../tables/TableExecutor.js';
import { Session, type SessionFactory, type SessionInit } from './Session.js';
import { startupSettings } from './startupSettings.js';

/** Sessions that execute on the coordinator's own DuckDB. */
export class LocalSessionFactory implements SessionFactory {
  constructor(
    private readonly engine: Engine,
    private readonly parser: SqlParser,
    /** When given, tables live in the catalog's Parquet storage (src/tables), not in the DuckDB file. */
    private readonly storage?: TableStorage,
    /** When given (with storage), SELECTs over catalog tables run on the cluster's workers. */
    private readonly runtime?: DistributedRuntime,
    private readonly options: TableExecutorOptions = {},
  ) {}

  async create(init: SessionInit): Promise<Session> {
    const settings = new SessionSettings({ session_authorization: init.user });
    for (const [name, value] of startupSettings(init.params)) {
      try {
        settings.setStartup(name, value);
      } catch (err) {
        // Drivers send parameters of their own (e.g. pgjdbc's, psql's); an unknown one is logged, not fatal.
        if (err instanceof PgError && err.code === '42704') {
          init.log.debug({ name }, 'ignoring unknown startup parameter');
          continue;
        }
        if (err instanceof PgError)
          throw new PgError(err.code, err.message, { ...err.fields, severity: 'FATAL' });
        throw err;
      }
    }
    const local = await this.engine.createSession();
    const executor: SessionExecutor = this.storage
      ? new TableExecutor(local, this.storage, this.parser, await this.runtime?.openPlanner(), this.options)
      : local;
    if (settings.duckdbTimeZone !== 'UTC') await executor.setTimeZone?.(settings.duckdbTimeZone);
    return new Session(init, executor, this.parser, settings);
  }
}
