import { SqlState, type SqlStateCode } from './sqlstate.js';

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';

export interface PgErrorFields {
  severity?: Severity;
  detail?: string;
  hint?: string;
  /** 1-based character position in the query string, as PostgreSQL reports it. */
  position?: number;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  /** Free-form context line (PostgreSQL's `W` field), e.g. `COPY t, line 3`. */
  where?: string;
}

/** An error that becomes one ErrorResponse (or NoticeResponse for warning severities). */
export class PgError extends Error {
  readonly code: SqlStateCode;
  readonly severity: Severity;
  readonly fields: PgErrorFields;

  constructor(code: SqlStateCode, message: string, fields: PgErrorFields = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PgError';
    this.code = code;
    this.severity = fields.severity ?? 'ERROR';
    this.fields = fields;
  }
}

/** Malformed or oversized bytes from a client: FATAL 08P01, then that connection closes. */
export class ProtocolError extends PgError {
  constructor(message: string, options?: ErrorOptions) {
    super(SqlState.ProtocolViolation, message, { severity: 'FATAL' }, options);
    this.name = 'ProtocolError';
  }
}
