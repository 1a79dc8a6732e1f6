import { connect } from 'node:net';

/**
 * A hostile uploader over a raw socket: it sends a request head, then keeps pushing body bytes
 * whatever the server answers, the way an attacker ignores a 401. It stops only when the server
 * closes the connection, when everything was sent, or at the time bound. What it reports shows
 * whether the server stopped reading (few bytes sent, connection closed) or drained the body.
 */

export interface UploadOptions {
  port: number;
  path: string;
  headers?: Record<string, string>;
  /** `content-length` announces `totalBytes`; `chunked` sends 64 KiB chunks with no end in sight. */
  framing: 'content-length' | 'chunked';
  /** Body bytes to try to send. */
  totalBytes: number;
  /** Send `Expect: 100-continue` and wait for an interim or final answer before any body byte. */
  expectContinue?: boolean;
  timeoutMs?: number;
}

export interface UploadResult {
  /** Everything the server sent back, as latin1 text. */
  responseText: string;
  /** Body bytes handed to the socket before it closed (payload only, chunk framing not counted). */
  bodyBytesSent: number;
  /** True when the server ended or reset the connection before the client was done. */
  closedByServer: boolean;
}

const piece = Buffer.alloc(64 * 1024, 0x61);
const chunkHead = Buffer.from(`${piece.length.toString(16)}\r\n`);
const chunkTail = Buffer.from('\r\n');

export function pushUpload(options: UploadOptions): Promise<UploadResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect(options.port, '127.0.0.1');
    let responseText = '';
    let bodyBytesSent = 0;
    let finished = false;
    let closedByServer = false;
    let bodyStarted = options.expectContinue !== true;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responseText, bodyBytesSent, closedByServer });
    };
    const timer = setTimeout(() => {
      finished = true;
      socket.destroy();
      reject(new Error(`the server neither closed nor stopped the upload within ${timeoutMs} ms (${bodyBytesSent} bytes sent)`));
    }, timeoutMs);
    const pump = (): void => {
      while (!finished && bodyStarted && bodyBytesSent < options.totalBytes) {
        bodyBytesSent += piece.length;
        const accepted = options.framing === 'chunked' ? socket.write(Buffer.concat([chunkHead, piece, chunkTail])) : socket.write(piece);
        if (!accepted) return;
      }
      // Everything was sent and the server never closed: the client ends it (closedByServer stays false).
      if (!finished && bodyStarted && bodyBytesSent >= options.totalBytes) setTimeout(finish, 200);
    };
    socket.on('connect', () => {
      const head = [`POST ${options.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json'];
      head.push(options.framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${options.totalBytes}`);
      if (options.expectContinue === true) head.push('Expect: 100-continue');
      for (const [name, value] of Object.entries(options.headers ?? {})) head.push(`${name}: ${value}`);
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      pump();
    });
    socket.on('drain', pump);
    socket.on('data', (data: Buffer) => {
      responseText += data.toString('latin1');
      if (!bodyStarted) {
        // A client that asked for 100-continue sends its body once any answer arrives; a hostile
        // one sends it after a final answer too, to see whether the server still reads.
        bodyStarted = true;
        setTimeout(pump, 20);
      }
    });
    const closedEarly = (): void => {
      if (bodyBytesSent < options.totalBytes) closedByServer = true;
      finish();
    };
    socket.on('end', closedEarly);
    socket.on('error', closedEarly);
    socket.on('close', closedEarly);
  });
}
