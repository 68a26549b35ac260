/**
 * ZooKeeper error codes (`KeeperException.Code`) and the typed error hierarchy that
 * carries them. Only the codes listed here ever go on the wire: a real client throws on
 * an unknown code, so zoostate never invents new ones.
 */

/** Every error code of ZooKeeper 3.8. */
export const ErrorCode = {
  OK: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  UnknownSession: -12,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  APIError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  ThrottledOp: -127,
} as const;
/** A ZooKeeper error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const codeNames = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** The name of a code (`NoNode` for -101), or `Unknown(<code>)`. */
export function errorCodeName(code: number): string {
  return codeNames.get(code) ?? `Unknown(${code})`;
}

/** True if `code` is one ZooKeeper defines (safe to send to a client). */
export function isKnownErrorCode(code: number): code is ErrorCode {
  return codeNames.has(code);
}

/**
 * An error with a ZooKeeper error code and, where one applies, the path it concerns.
 * Subclasses exist for the codes applications commonly catch (`NoNodeError`, ...);
 * `ZooKeeperError.of(code)` builds the most specific one.
 */
export class ZooKeeperError extends Error {
  /** The ZooKeeper error code (negative). */
  readonly code: ErrorCode;
  /** The path the failed operation addressed, if any. */
  readonly path: string | undefined;

  constructor(code: ErrorCode, path?: string, message?: string) {
    super(message ?? (path === undefined ? errorCodeName(code) : `${errorCodeName(code)} for ${path}`));
    this.code = code;
    this.path = path;
    this.name = new.target.name;
  }

  /** The name of the code, e.g. `NoNode`. */
  get codeName(): string {
    return errorCodeName(this.code);
  }

  /** Build the most specific error class for `code`. */
  static of(code: ErrorCode, path?: string, message?: string): ZooKeeperError {
    const Specific = specificErrors.get(code);
    return Specific ? new Specific(path, message) : new ZooKeeperError(code, path, message);
  }
}

type SpecificErrorClass = new (path?: string, message?: string) => ZooKeeperError;

function specific(code: ErrorCode): SpecificErrorClass {
  return class extends ZooKeeperError {
    constructor(path?: string, message?: string) {
      super(code, path, message);
    }
  };
}

/** The node (or the parent, for create) does not exist. */
export class NoNodeError extends specific(ErrorCode.NoNode) {}
/** The node already exists. */
export class NodeExistsError extends specific(ErrorCode.NodeExists) {}
/** The expected version did not match. */
export class BadVersionError extends specific(ErrorCode.BadVersion) {}
/** The node has children. */
export class NotEmptyError extends specific(ErrorCode.NotEmpty) {}
/** The ACL denies the operation. */
export class NoAuthError extends specific(ErrorCode.NoAuth) {}
/** The ACL is invalid. */
export class InvalidACLError extends specific(ErrorCode.InvalidACL) {}
/** Invalid path, flags, TTL or system node. */
export class BadArgumentsError extends specific(ErrorCode.BadArguments) {}
/** Ephemeral nodes cannot have children. */
export class NoChildrenForEphemeralsError extends specific(ErrorCode.NoChildrenForEphemerals) {}
/** The session expired or is closing. */
export class SessionExpiredError extends specific(ErrorCode.SessionExpired) {}
/** The connection dropped before the outcome was known. */
export class ConnectionLossError extends specific(ErrorCode.ConnectionLoss) {}
/** The request timed out on the client. */
export class OperationTimeoutError extends specific(ErrorCode.OperationTimeout) {}
/** The opcode or feature is not implemented. */
export class UnimplementedError extends specific(ErrorCode.Unimplemented) {}
/** removeWatches/checkWatches found no such watch. */
export class NoWatcherError extends specific(ErrorCode.NoWatcher) {}
/** Authentication failed. */
export class AuthFailedError extends specific(ErrorCode.AuthFailed) {}
/** The session moved to another server. */
export class SessionMovedError extends specific(ErrorCode.SessionMoved) {}
/** A multi op after the failing one. */
export class RuntimeInconsistencyError extends specific(ErrorCode.RuntimeInconsistency) {}

/**
 * Bytes that cannot be decoded: a truncated frame, a length out of bounds, an unknown
 * record type. Its code is MarshallingError, which is what ZooKeeper answers for an
 * unparsable request body.
 */
export class DecodeError extends ZooKeeperError {
  constructor(message: string) {
    super(ErrorCode.MarshallingError, undefined, message);
  }
}

const specificErrors = new Map<number, SpecificErrorClass>([
  [ErrorCode.NoNode, NoNodeError],
  [ErrorCode.NodeExists, NodeExistsError],
  [ErrorCode.BadVersion, BadVersionError],
  [ErrorCode.NotEmpty, NotEmptyError],
  [ErrorCode.NoAuth, NoAuthError],
  [ErrorCode.InvalidACL, InvalidACLError],
  [ErrorCode.BadArguments, BadArgumentsError],
  [ErrorCode.NoChildrenForEphemerals, NoChildrenForEphemeralsError],
  [ErrorCode.SessionExpired, SessionExpiredError],
  [ErrorCode.ConnectionLoss, ConnectionLossError],
  [ErrorCode.OperationTimeout, OperationTimeoutError],
  [ErrorCode.Unimplemented, UnimplementedError],
  [ErrorCode.NoWatcher, NoWatcherError],
  [ErrorCode.AuthFailed, AuthFailedError],
  [ErrorCode.SessionMoved, SessionMovedError],
  [ErrorCode.RuntimeInconsistency, RuntimeInconsistencyError],
]);
