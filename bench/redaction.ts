// `npm run bench:redaction`: how long redaction takes on the worst shapes of log text at 64 K
// characters, raw (the patterns alone) and as ingest runs it (cut to the shared limit first). Timing
// lives here, never in a test: the tests assert what redaction produces.
import { DEFAULT_LOG_LIMITS } from '../src/domain/log-bounds.js';
import { redactSecrets } from '../src/domain/redact.js';
import { sanitiseLogLines } from '../src/domain/sanitise.js';

const CHARS = 64 * 1024;
const RUNS = 5;

/** Shapes that once made a pattern backtrack over the whole run from each of its positions. */
const SHAPES: Array<[string, string]> = [
  ['a.', 'a.'],
  ['a-', 'a-'],
  ['a:', 'a:'],
  ['a@', 'a@'],
  ['://', '://'],
  ['s://u: then colons', ':'],
  ['eyJ-', 'eyJ-'],
  ['eyJ.', 'eyJaa.'],
  ['key-like run', 'Ab3_'],
  ['password + spaces', 'password '],
  ['nested quotes', `"'`],
  ['-ghp_…_', '-ghp_aaaaaaaaaaaaaaaaaaaaaaaa_'],
];

const text = (unit: string) => unit.repeat(Math.ceil(CHARS / unit.length)).slice(0, CHARS);

function medianMs(work: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? 0;
}

const rows = SHAPES.map(([name, unit]) => {
  const input = name.startsWith('s://') ? `s://u:${text(unit)}` : text(unit);
  return {
    shape: name,
    chars: input.length,
    'raw redactSecrets (ms)': medianMs(() => redactSecrets(input)).toFixed(2),
    'cut, then redacted (ms)': medianMs(() => sanitiseLogLines([input], DEFAULT_LOG_LIMITS)).toFixed(2),
  };
});
console.log(
  `redaction of ${CHARS} characters, median of ${RUNS} runs; lines cut to ${DEFAULT_LOG_LIMITS.maxLineChars} chars`,
);
console.table(rows);
