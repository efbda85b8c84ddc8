// The oom fault's job: an export that needs a fixed amount of memory at once. It runs in a worker thread
// of this process, so the kernel's OOM killer takes the whole container when the amount does not fit its
// limit; when it fits, the job ends and its memory is given back at once. The memory is WebAssembly
// memory, which V8 maps and unmaps itself: freed with the thread, not whenever malloc and the garbage
// collector see fit, so the app's RSS is back where it was and no memory-leak alert follows a job that fit.
import { Worker } from 'node:worker_threads';

const MB = 1024 * 1024;
/** WebAssembly's page: 64 KiB. */
const PAGE = 64 * 1024;

// Plain JavaScript, evaluated in the thread: the bundle has no file of its own to point a Worker at.
const JOB = `
const { workerData, parentPort } = require('node:worker_threads');
const PAGE = ${PAGE};
const STEP_PAGES = 256;
// One memory holds at most 4 GiB: a larger job takes several of 1 GiB.
const MEMORY_PAGES = 16384;
const wanted = Math.ceil(workerData.bytes / PAGE);
const memories = [];
let pages = 0;
while (pages < wanted) {
  const memory = new WebAssembly.Memory({ initial: 0, maximum: MEMORY_PAGES });
  memories.push(memory);
  for (let own = 0; own < MEMORY_PAGES && pages < wanted; ) {
    const grow = Math.min(STEP_PAGES, MEMORY_PAGES - own, wanted - pages);
    memory.grow(grow);
    // Written, not only mapped: untouched pages would not count towards the limit.
    new Uint8Array(memory.buffer, own * PAGE, grow * PAGE).fill(1);
    own += grow;
    pages += grow;
  }
}
parentPort.postMessage(pages * PAGE);
`;

export interface MemoryJob {
  /** The bytes it held, once they are freed again. */
  done: Promise<number>;
  /** Ends it early (the app is closing). */
  stop(): Promise<void>;
}

export function startMemoryJob(mb: number): MemoryJob {
  const worker = new Worker(JOB, { eval: true, workerData: { bytes: mb * MB } });
  const held = new Promise<number>((resolve, reject) => {
    worker.once('message', (bytes: number) => resolve(bytes));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the job's thread exited with code ${code}`)));
  });
  const done = held.then(
    async (bytes) => {
      await worker.terminate();
      return bytes;
    },
    async (err: unknown) => {
      await worker.terminate();
      throw err;
    },
  );
  return {
    done,
    stop: async () => {
      await worker.terminate();
    },
  };
}
