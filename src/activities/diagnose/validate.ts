// Whatever a provider says is checked here before anyone acts on it: one of the allowed actions,
// a confidence between 0 and 1, bounded text, no extra fields, and never another target.

import { z } from 'zod';
import { issuesInWords } from '../../domain/alert.js';
import { ACTIONS, type RemediationAction } from '../../domain/types.js';

const TEXT_LIMIT = 1000;

/** The answer every provider must give. Strict: an extra field (a command, a target list) is refused. */
export const answerSchema = z.strictObject({
  rootCause: z.string().trim().min(1).max(TEXT_LIMIT),
  action: z.enum(ACTIONS),
  confidence: z.number().min(0).max(1),
  justification: z.string().trim().min(1).max(TEXT_LIMIT),
  /** Tolerated only when it names the incident's own target. */
  target: z.string().optional(),
});

export interface ValidAnswer {
  rootCause: string;
  action: RemediationAction;
  confidence: number;
  justification: string;
}

/** The JSON schema sent to the models (Gemini's responseJsonSchema, Ollama's format). */
export const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    rootCause: { type: 'string', description: 'the most likely root cause, one sentence' },
    action: { type: 'string', enum: [...ACTIONS] },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    justification: { type: 'string', description: 'why this action, citing the evidence' },
  },
  required: ['rootCause', 'action', 'confidence', 'justification'],
  additionalProperties: false,
} as const;

export type Validation = { ok: true; answer: ValidAnswer } | { ok: false; reason: string };

/** Parses a provider's raw text (or object) into a valid answer for `target`, or says why not. */
export function validateAnswer(raw: unknown, target: string): Validation {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(stripCodeFence(raw));
    } catch {
      return { ok: false, reason: `not JSON: ${JSON.stringify(raw.slice(0, 80))}` };
    }
  }
  const parsed = answerSchema.safeParse(value);
  if (!parsed.success) {
    const issues = issuesInWords(parsed.error, 3, '(answer)');
    return { ok: false, reason: `does not match the answer schema (${issues})` };
  }
  const { target: named, ...answer } = parsed.data;
  if (named !== undefined && named !== target) {
    return {
      ok: false,
      reason: `names target ${JSON.stringify(named.slice(0, 64))}, not this incident's ${target}`,
    };
  }
  return { ok: true, answer };
}

/** Models sometimes wrap JSON in a markdown fence despite being asked not to. */
function stripCodeFence(text: string): string {
  const match = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text);
  return match?.[1] ?? text;
}
