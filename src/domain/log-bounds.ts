// One limit on log text wherever Medic gathers it (webhooks, the engine, the engine watch), so no
// sender and no container can make a signal or an activity input approach Temporal's 2 MB payload
// limit, or feed the redaction patterns an unbounded line.
import { defaultNumber } from './settings-table.js';

export interface LogLimits {
  /** Characters kept of one line: its start, where a message and an error's name are. */
  maxLineChars: number;
  /** Lines kept: the newest, where the fault is. */
  maxLines: number;
  /** UTF-8 bytes of all lines kept together. */
  maxBytes: number;
}

/** The defaults of MEDIC_LOG_MAX_LINE_CHARS, MEDIC_LOG_MAX_LINES and MEDIC_LOG_MAX_BYTES. */
export const DEFAULT_LOG_LIMITS: LogLimits = {
  maxLineChars: defaultNumber('MEDIC_LOG_MAX_LINE_CHARS'),
  maxLines: defaultNumber('MEDIC_LOG_MAX_LINES'),
  maxBytes: defaultNumber('MEDIC_LOG_MAX_BYTES'),
};

/**
 * A cut word goes with the cut, up to this many characters back: a secret split by the cut must not
 * leave its first half for the redaction patterns to miss.
 */
const WORD_TAIL_CHARS = 256;

const cutMarker = (chars: number) => ` … [cut ${chars} chars]`;

/** UTF-8 length, without Node's Buffer (domain code stays portable). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The line's start, at most `maxChars` long with the marker that says how much was cut. The end goes:
 * a log line states its message first (a stack trace's error, a JSON line's `level` and `msg`).
 */
export function cutLine(line: string, maxChars: number): string {
  if (line.length <= maxChars) return line;
  // The marker's length depends on the number it carries: room is left for the longest it can be.
  const room = Math.max(0, maxChars - cutMarker(line.length).length);
  let end = room;
  if (/\S/.test(line[room - 1] ?? '') && /\S/.test(line[room] ?? '')) {
    // The cut falls inside a word: the word goes, back to its start or WORD_TAIL_CHARS of it.
    const from = Math.max(0, room - WORD_TAIL_CHARS);
    end = from;
    for (let i = room - 1; i >= from; i--) {
      if (/\s/.test(line[i] ?? '')) {
        end = i + 1;
        break;
      }
    }
  }
  // Never split a surrogate pair.
  const last = line.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${line.slice(0, end)}${cutMarker(line.length - end)}`;
}

/** The newest lines, each cut to `maxLineChars`, together at most `maxLines` lines and `maxBytes` bytes. */
export function boundLogLines(lines: readonly string[], limits: LogLimits): string[] {
  const kept: string[] = [];
  let bytes = 0;
  const first = Math.max(0, lines.length - limits.maxLines);
  for (let i = lines.length - 1; i >= first; i--) {
    const line = cutLine(lines[i] ?? '', limits.maxLineChars);
    const size = utf8Bytes(line) + 1; // and its newline, as the lines are read together
    if (bytes + size > limits.maxBytes) {
      // The newest line alone is too big: keep what fits of it (3 bytes a character at most), not nothing.
      const fits = Math.min(limits.maxLineChars, Math.floor((limits.maxBytes - 1) / 3));
      if (kept.length === 0) kept.push(cutLine(lines[i] ?? '', fits));
      break;
    }
    kept.push(line);
    bytes += size;
  }
  return kept.reverse();
}
