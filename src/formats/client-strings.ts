import { GatewayError } from '../errors/gateway-error.js';

/**
 * Bounds on the client strings a translator copies into the upstream request under another name:
 * the end-user id, stop sequences, tool names and tool call ids. A same-format pass-through sends
 * the client's bytes to an upstream that checks them against its own documented limits; a
 * translation writes them into fields the *other* provider's limits were not applied to, and the
 * gateway's request is the one the upstream then refuses, logs or bills. So the translator checks
 * them first: a value over its bound is a 400 naming the field, never truncated (a cut id would
 * silently merge two users, a cut stop sequence would stop at the wrong text).
 *
 * Shared by both translation directions (one rule), kept here because translators import only
 * `formats/` and `errors/`.
 */

/**
 * An end-user id (`user`, `metadata.user_id`). Longer is not an id but abuse or a bug. Claude
 * Code's ids (a JSON object with device, account and session ids) are about 150 characters.
 */
export const userIdMaxLength = 512;

/** Tool names: what the tool definition schemas allow (OpenAI's documented limit is 64; Anthropic's 128). */
export const toolNameMaxLength = 128;

/** Tool call ids (`call_…`, `toolu_…`): real ones are 24–40 characters. */
export const toolCallIdMaxLength = 256;

/** One stop sequence, in characters; real ones are a few words (`\n\nHuman:`). */
export const stopSequenceMaxLength = 1_000;

/** Stop sequences per request when translated; OpenAI accepts 4, vLLM and Anthropic more. */
export const stopSequencesMaxCount = 16;

// C0 and C1 control characters and DEL: no identifier contains them; an upstream log line must not either.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;

function refuse(field: string, problem: string): GatewayError {
  return new GatewayError('GW_INVALID_REQUEST', { message: `Invalid request: ${field}: ${problem}.` });
}

/** An identifier: at most `maxLength` characters, no control character. Returns it unchanged. */
export function boundedIdentifier(value: string, field: string, maxLength: number): string {
  if (value.length > maxLength || controlCharacters.test(value)) {
    throw refuse(field, `must be at most ${maxLength} characters without control characters`);
  }
  return value;
}

/**
 * Stop sequences: at most `stopSequencesMaxCount` of at most `stopSequenceMaxLength` characters.
 * Control characters are allowed: a newline is the most common stop sequence.
 */
export function boundedStopSequences(values: readonly string[], field: string): string[] {
  if (values.length > stopSequencesMaxCount) throw refuse(field, `at most ${stopSequencesMaxCount} stop sequences can be translated`);
  values.forEach((value, index) => {
    if (value.length > stopSequenceMaxLength) throw refuse(`${field}[${index}]`, `must be at most ${stopSequenceMaxLength} characters`);
  });
  return [...values];
}
