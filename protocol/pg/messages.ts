/**
 * Type bytes of the messages a client sends (PostgreSQL protocol 3.0, "Message Formats").
 * Startup, SSLRequest, GSSENCRequest and CancelRequest have no type byte: see {@link StartupCode}.
 */
// biome-ignore lint/suspicious/noConstEnum: the house style's message-code enums; tsc inlines them (no isolatedModules)
export const enum FrontendCode {
  Bind = 0x42 /* B */,
  Close = 0x43 /* C */,
  CopyData = 0x64 /* d */,
  CopyDone = 0x63 /* c */,
  CopyFail = 0x66 /* f */,
  Describe = 0x44 /* D */,
  Execute = 0x45 /* E */,
  Flush = 0x48 /* H */,
  FunctionCall = 0x46 /* F */,
  Parse = 0x50 /* P */,
  /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse all share it. */
  Password = 0x70 /* p */,
  Query = 0x51 /* Q */,
  Sync = 0x53 /* S */,
  Terminate = 0x58 /* X */,
}

/** Type bytes of the messages the server sends. */
// biome-ignore lint/suspicious/noConstEnum: the house style's message-code enums; tsc inlines them (no isolatedModules)
export const enum BackendCode {
  /** AuthenticationOk, ...CleartextPassword, ...MD5Password, ...SASL, ...SASLContinue, ...SASLFinal. */
  Authentication = 0x52 /* R */,
  BackendKeyData = 0x4b /* K */,
  BindComplete = 0x32 /* 2 */,
  CloseComplete = 0x33 /* 3 */,
  CommandComplete = 0x43 /* C */,
  CopyBothResponse = 0x57 /* W */,
  CopyData = 0x64 /* d */,
  CopyDone = 0x63 /* c */,
  CopyInResponse = 0x47 /* G */,
  CopyOutResponse = 0x48 /* H */,
  DataRow = 0x44 /* D */,
  EmptyQueryResponse = 0x49 /* I */,
  ErrorResponse = 0x45 /* E */,
  FunctionCallResponse = 0x56 /* V */,
  NegotiateProtocolVersion = 0x76 /* v */,
  NoData = 0x6e /* n */,
  NoticeResponse = 0x4e /* N */,
  NotificationResponse = 0x41 /* A */,
  ParameterDescription = 0x74 /* t */,
  ParameterStatus = 0x53 /* S */,
  ParseComplete = 0x31 /* 1 */,
  PortalSuspended = 0x73 /* s */,
  ReadyForQuery = 0x5a /* Z */,
  RowDescription = 0x54 /* T */,
}

/** The int32 after the length of an untyped first packet; anything else is a protocol version. */
// biome-ignore lint/suspicious/noConstEnum: the house style's message-code enums; tsc inlines them (no isolatedModules)
export const enum StartupCode {
  /** 1234.5678 */
  CancelRequest = 80877102,
  /** 1234.5679 */
  SSLRequest = 80877103,
  /** 1234.5680 */
  GSSENCRequest = 80877104,
}

/** The int32 after an Authentication ('R') message's length. */
// biome-ignore lint/suspicious/noConstEnum: the house style's message-code enums; tsc inlines them (no isolatedModules)
export const enum AuthenticationCode {
  Ok = 0,
  CleartextPassword = 3,
  MD5Password = 5,
  SASL = 10,
  SASLContinue = 11,
  SASLFinal = 12,
}

/** Every message a client can send, decoded. Buffers may alias the pushed chunks (see FrontendParser). */
export type FrontendMessage =
  | { type: 'startup'; protocolVersion: number /* major<<16 | minor */; params: Record<string, string> }
  | { type: 'sslRequest' }
  | { type: 'gssEncRequest' }
  | { type: 'cancelRequest'; pid: number; secret: number }
  | { type: 'query'; sql: string }
  | { type: 'parse'; name: string; sql: string; paramOids: number[] }
  | {
      type: 'bind';
      portal: string;
      statement: string;
      paramFormats: number[];
      params: (Buffer | null)[];
      resultFormats: number[];
    }
  | { type: 'describe'; kind: 'S' | 'P'; name: string }
  | { type: 'execute'; portal: string; maxRows: number }
  | { type: 'close'; kind: 'S' | 'P'; name: string }
  | { type: 'sync' }
  | { type: 'flush' }
  | { type: 'terminate' }
  | { type: 'copyData'; data: Buffer }
  | { type: 'copyDone' }
  | { type: 'copyFail'; message: string }
  // 'p': PasswordMessage, SASLInitialResponse or SASLResponse; which one depends on the authentication
  // exchange, so the connection decodes it with parsePasswordMessage / parseSaslInitialResponse.
  | { type: 'password'; data: Buffer }
  // The fastpath function call interface is obsolete; the server rejects it, so its body is not decoded.
  | { type: 'functionCall' };
