import { describe, expect, it } from 'vitest';
import { Log } from '../../../demo-app/src/log.js';

describe('Log', () => {
  it('writes one JSON object per line with time, level and msg first', () => {
    const written: string[] = [];
    const log = new Log({ write: (line) => written.push(line), now: () => Date.UTC(2030, 0, 1) });
    log.error('memory usage above threshold', { rssMb: 312, level: 'info', err: new Error('boom') });
    expect(written).toHaveLength(1);
    expect(written[0]).toBe(
      '{"time":"2030-01-01T00:00:00.000Z","level":"error","msg":"memory usage above threshold","rssMb":312,"err":"boom"}',
    );
  });

  it('keeps only the last 200 lines', () => {
    const log = new Log({ write: () => {} });
    for (let i = 0; i < 250; i++) log.info(`line ${i}`);
    const lines = log.recent();
    expect(lines).toHaveLength(200);
    expect(JSON.parse(lines[0] ?? '{}').msg).toBe('line 50');
    expect(log.recent(2).map((l) => JSON.parse(l).msg)).toEqual(['line 248', 'line 249']);
    expect(log.recent(0)).toEqual([]);
  });
});
