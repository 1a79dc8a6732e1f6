/**
 * Checks on streamed answers as a client sees them, shared by the SDK matrix and bad-input tests.
 */

/** A raw Anthropic stream event, as far as ordering checks need it. */
export interface AnthropicEventView {
  type: string;
  index?: number;
}

/**
 * Returns the problems with an Anthropic event sequence (empty when it is well-formed):
 * `message_start` first, `message_stop` last right after `message_delta`, and every content block
 * opened, given deltas, and closed in order with matching indexes. `ping` may appear anywhere.
 */
export function anthropicEventOrderProblems(events: readonly AnthropicEventView[]): string[] {
  const problems: string[] = [];
  const types = events.map((event) => event.type).filter((type) => type !== 'ping');
  if (types[0] !== 'message_start') problems.push(`first event is ${types[0]}, not message_start`);
  if (types.at(-1) !== 'message_stop') problems.push(`last event is ${types.at(-1)}, not message_stop`);
  if (types.at(-2) !== 'message_delta') problems.push(`event before the last is ${types.at(-2)}, not message_delta`);
  if (types.filter((type) => type === 'message_start').length !== 1) problems.push('message_start is not sent exactly once');
  let openIndex: number | undefined;
  let nextIndex = 0;
  for (const event of events) {
    if (event.type === 'content_block_start') {
      if (openIndex !== undefined) problems.push(`block ${event.index} starts while block ${openIndex} is open`);
      if (event.index !== nextIndex) problems.push(`block index ${event.index}, expected ${nextIndex}`);
      openIndex = event.index;
      nextIndex += 1;
    } else if (event.type === 'content_block_delta') {
      if (event.index !== openIndex) problems.push(`delta for block ${event.index} while block ${openIndex} is open`);
    } else if (event.type === 'content_block_stop') {
      if (event.index !== openIndex) problems.push(`stop for block ${event.index} while block ${openIndex} is open`);
      openIndex = undefined;
    } else if (event.type === 'message_delta' && openIndex !== undefined) {
      problems.push(`message_delta while block ${openIndex} is open`);
    }
  }
  return problems;
}

/** A streamed OpenAI tool call reassembled from its deltas, by `index`. */
export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface ToolCallDeltaView {
  index: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** Folds tool-call deltas the way a client must: the first delta of an index carries id and name. */
export function assembleToolCalls(deltas: readonly ToolCallDeltaView[]): AssembledToolCall[] {
  const calls: AssembledToolCall[] = [];
  for (const delta of deltas) {
    const call = (calls[delta.index] ??= { id: '', name: '', arguments: '' });
    if (delta.id !== undefined) call.id = delta.id;
    if (delta.function?.name !== undefined) call.name += delta.function.name;
    if (delta.function?.arguments !== undefined) call.arguments += delta.function.arguments;
  }
  return calls;
}
