// The crash trigger's memory dump: `POST /trigger/crash?logBytes=N` prints one line of N bytes of binary
// before it dies, as a runtime dumping its memory does. Raw bytes, not text: invalid UTF-8 and control
// characters grow several times over once a log reader decodes them and JSON encodes them again.

/** The largest dump the trigger prints. */
export const MAX_CRASH_DUMP_BYTES = 16 * 1024 * 1024;

/** `logBytes` of the crash trigger: 0 when absent, undefined when not a whole number in range. */
export function crashDumpBytes(raw: unknown): number | undefined {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) return undefined;
  const bytes = Number(raw);
  return bytes <= MAX_CRASH_DUMP_BYTES ? bytes : undefined;
}

const NEWLINE = 0x0a;

/** One line of `size` bytes (its newline included) cycling through every byte value but the newline. */
export function memoryDump(size: number): Buffer {
  const dump = Buffer.alloc(size);
  for (let i = 0; i < size - 1; i++) {
    const byte = (i * 151 + 7) % 256;
    dump[i] = byte === NEWLINE ? 0 : byte;
  }
  if (size > 0) dump[size - 1] = NEWLINE;
  return dump;
}
