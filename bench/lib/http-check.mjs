/**
 * One request from the orchestrator, for sanity checks and layer probes (never for load). TLS
 * certificates are not verified: the bench's own self-signed certificate on loopback.
 */
import http from 'node:http';
import https from 'node:https';

/**
 * @param {{ url: string, headers?: Record<string, string>, body?: string | Buffer, timeoutMs?: number }} options
 * @returns {Promise<{ status: number, text: string, headers?: import('node:http').IncomingHttpHeaders }>} status 0 when the request failed outright
 */
export function sendOnce({ url, headers = {}, body, timeoutMs = 5000 }) {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const request = client.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) },
        rejectUnauthorized: false,
        agent: false,
        timeout: timeoutMs,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (piece) => {
          if (text.length < 64 * 1024) text += piece;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, headers: response.headers }));
        response.on('error', (error) => resolve({ status: 0, text: String(error) }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: 0, text: String(error.message) }));
    request.end(body);
  });
}
