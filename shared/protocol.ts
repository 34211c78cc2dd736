/**
 * The wire protocol in one import: every frame type (frame_types.ts), and
 * per direction the one encoder and the one parser — client → server in
 * client_frames.ts, server → client in server_frames.ts. Framing itself
 * (length header, JSON body) is codec.ts; the `msg` frame's sealed message
 * is message_frame.ts. The prose version lives in docs/protocol.md; keep
 * them in step. This module only re-exports: it must not grow code.
 * @module
 */
export type * from "./frame_types.ts";
export {
  encodeClientFrame,
  MAX_HISTORY_PAGE,
  MAX_ROOM_MEMBERS,
  MAX_WRAPS_PER_FRAME,
  parseClientBody,
  parseClientFrame,
} from "./client_frames.ts";
export {
  encodeServerFrame,
  parseServerBody,
  parseServerFrame,
  serverFrameProblem,
} from "./server_frames.ts";
