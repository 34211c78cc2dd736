/**
 * The client's check of frames from the server now lives in shared/ (the
 * server → client half of the wire layer); these names stay for the
 * client's existing imports. New code imports `parseServerFrame` or
 * `parseServerBody` from shared/server_frames.ts.
 * @module
 */
export { asServerFrame, serverFrameProblem } from "../shared/server_frames.ts";
