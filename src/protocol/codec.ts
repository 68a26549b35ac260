/**
 * The client-protocol codec: jute records, request and reply frames, and framing.
 * One import point for the server and client front-ends.
 *
 * Server: `FrameDecoder` → first payload `decodeConnectRequest`, then `decodeRequest`
 * per payload; answer with `encodeConnectResponse`, `encodeReply` / `writeReply`
 * (batch several frames in one `JuteWriter`), `encodeNotification`.
 * Client: `encodeConnectRequest`, `encodeRequest`; per payload `readReplyHeader`, then
 * `readWatcherEvent` (xid -1) or `decodeResponse(opcode, reader)` when `err == 0`.
 */
export * from './jute.js';
export * from './codec-records.js';
export * from './codec-requests.js';
export * from './codec-responses.js';
export * from './frame.js';
