// How the diagnosis pipeline is configured: which providers, where, how long they may take.
import type { LogLimits } from '../../domain/log-bounds.js';
import { defaultNumber } from '../../domain/settings-table.js';

export interface GeminiSettings {
  /** Without a key Gemini is skipped (the trail says so). */
  apiKey: string | undefined;
  model: string;
  /** Another endpoint speaking the Gemini API (a proxy, or a local test server). */
  baseUrl?: string;
  timeoutMs: number;
}

export interface OllamaSettings {
  host: string;
  model: string;
  timeoutMs: number;
}

export interface RunbookTrust {
  /** A fix is applied without a model when at least this share of its uses resolved ... */
  minSuccessRate: number;
  /** ... over at least this many uses (runbook.ts assessFix). */
  minUses: number;
}

export interface DiagnosisSettings {
  /** Undefined: Gemini is not in the provider list. */
  gemini?: GeminiSettings;
  /** Undefined: Ollama is not in the provider list. */
  ollama?: OllamaSettings;
  /** Logs are cut to their last this many characters in a prompt. */
  promptLogChars: number;
  runbookTrust: RunbookTrust;
  /** Time box of each piece of evidence (inspect, logs, stats, health probe). */
  evidenceTimeoutMs?: number;
  /** The engine's log lines are bounded like every alert's (default: DEFAULT_LOG_LIMITS). */
  logLimits?: LogLimits;
}

export const RULES_ONLY: DiagnosisSettings = {
  promptLogChars: defaultNumber('MEDIC_PROMPT_LOG_CHARS'),
  runbookTrust: {
    minSuccessRate: defaultNumber('MEDIC_RUNBOOK_MIN_SUCCESS_RATE'),
    minUses: defaultNumber('MEDIC_RUNBOOK_MIN_USES'),
  },
};
