import type { GeminiContent, GeminiFunctionDeclaration, GeminiPart } from './generate-content-request.js';
import { jsonSchemaToGeminiSchema } from './json-schema-to-gemini.js';

/**
 * Building a Gemini request from another format, shared by openai-to-gemini and anthropic-to-gemini
 * (one translator never imports another). Pure.
 */

/**
 * Adds parts as a turn of `role`, merged into the previous turn when it has the same role: Gemini
 * expects turns to alternate, and both other formats split one turn in several messages (a tool
 * result per message, text after tool results).
 */
export function appendTurn(contents: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last !== undefined && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/** A function declaration from a JSON Schema tool; a tool without parameters declares none (Gemini refuses an OBJECT without properties in some versions). */
export function functionDeclaration(name: string, description: string | undefined, jsonSchema: unknown): GeminiFunctionDeclaration {
  const parameters = jsonSchemaToGeminiSchema(jsonSchema);
  const properties = parameters['properties'];
  const empty = typeof properties !== 'object' || properties === null || Object.keys(properties).length === 0;
  return { name, ...(description === undefined ? {} : { description }), ...(empty ? {} : { parameters }) };
}

/**
 * A tool result as Gemini's `functionResponse.response` (an object): the result text parsed when it
 * is a JSON object, else `{ "result": text }` (`{ "error": text }` for a result marked as an error).
 */
export function functionResponseBody(text: string, isError: boolean): Record<string, unknown> {
  if (!isError) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // plain text: wrapped below
    }
  }
  return isError ? { error: text } : { result: text };
}

/** `data:<mime>;base64,<data>` → Gemini inlineData; undefined for anything else (an http URL Gemini cannot fetch). */
export function inlineDataFromDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,([A-Za-z0-9+/=\s]*)$/.exec(url);
  return match === null ? undefined : { mimeType: match[1] as string, data: (match[2] as string).replace(/\s+/g, '') };
}
