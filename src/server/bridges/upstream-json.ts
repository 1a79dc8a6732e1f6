import { GatewayError } from '../../errors/gateway-error.js';

/**
 * Parses an upstream JSON answer leniently (any JSON value; the bridges read fields they know). A
 * body that is not JSON, such as an HTML page from a load balancer answering 200, is the upstream's
 * fault: GW_UPSTREAM_BAD_RESPONSE (502), on every bridge, same-format ones included.
 */
export function parseUpstreamJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { message: 'The upstream answer is not valid JSON.', cause: error });
  }
}
