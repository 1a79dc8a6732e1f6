/**
 * Gemini `generateContent` answer, one streamed chunk being the same shape. Only what the gateway
 * produces is typed.
 */
export type GeminiFinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'OTHER';

export interface GeminiResponsePart {
  text?: string;
  thought?: boolean;
  /** `id` is the upstream tool call's id, so a client that echoes it back keeps the pairing exact. */
  functionCall?: { name: string; args: Record<string, unknown>; id?: string };
}

export interface GeminiUsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  cachedContentTokenCount?: number;
}

export interface GeminiCandidate {
  content: { role: 'model'; parts: GeminiResponsePart[] };
  finishReason?: GeminiFinishReason;
  index: number;
}

export interface GeminiGenerateContentResponse {
  candidates: GeminiCandidate[];
  usageMetadata?: GeminiUsageMetadata;
  modelVersion: string;
  responseId?: string;
}

export interface GeminiCountTokensResponse {
  totalTokens: number;
}

export interface GeminiModelList {
  models: { name: string; displayName: string; supportedGenerationMethods: string[] }[];
}
