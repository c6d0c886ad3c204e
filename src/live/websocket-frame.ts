/**
 * A text message as a server sends it on a WebSocket (RFC 6455 §5.2: FIN, opcode 1, no mask, no
 * extension), `parts` joined, in one buffer. The gateway frames its subscription messages itself
 * so that one allocation and one socket write carry each: `ws`'s sender would add a header buffer,
 * a write callback and a pass through its queue per message, most of what a delivered tick costs
 * apart from the system call. Only valid while the connection negotiated no extension
 * (permessage-deflate is off: see GraphqlWsServer).
 */
export function textFrame(...parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  let at = headerLength;
  for (const part of parts) at += part.copy(frame, at);
  return frame;
}
