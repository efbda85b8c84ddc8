// What the compose files do with variables, read line by line (their layout is regular: two-space
// indents, `environment:` as a map): which `${VAR}` each service uses, with which `:-default`, and which
// variables each service's environment sets, to what. Enough to check the settings table against them.
import { readFileSync } from 'node:fs';

export const COMPOSE_FILES = [
  'docker-compose.yml',
  'docker-compose.override.yml',
  'docker-compose.tls.yml',
] as const;

export interface ComposeVariableUse {
  /** The file, the service (or `x-...` block) and the default after `:-` (undefined: none given). */
  file: string;
  service: string;
  default: string | undefined;
}

export interface ComposeFile {
  file: string;
  /** Every `${VAR...}` of the file, outside comments, by the service whose definition holds it. */
  uses: Array<ComposeVariableUse & { name: string }>;
  /** Each service's `environment:` entries, those of merged `<<: *anchor` blocks included. */
  environment: Map<string, Map<string, string>>;
}

const REFERENCE = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;
const ENTRY = /^([A-Za-z_][A-Za-z0-9_]*|<<):\s*(.*)$/;

/** `"x"` or `'x'` or x, as YAML reads a plain scalar on one line. */
const unquote = (text: string) => text.replace(/^(["'])(.*)\1$/, '$2');

export function readComposeFile(file: string, root: URL): ComposeFile {
  const lines = readFileSync(new URL(file, root), 'utf8').split('\n');
  const uses: ComposeFile['uses'] = [];
  const environment = new Map<string, Map<string, string>>();
  const anchors = new Map<string, { block: string; entries: Map<string, string> }>();
  const merges: Array<{ service: string; anchor: string }> = [];
  /** Each service's `secrets: [a, b]`: a top-level secret's variables reach the services that name it. */
  const secretsOf = new Map<string, string[]>();
  let top = '';
  let block = '';
  let inEnvironment = false;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    if (indent === 0) {
      top = text.replace(/:.*$/, '');
      const anchor = /&([\w-]+)$/.exec(text);
      block = top.startsWith('x-') ? top : '';
      if (anchor && block) anchors.set(anchor[1] as string, { block, entries: new Map() });
      inEnvironment = false;
    } else if (top === 'services' && indent === 2) {
      block = text.replace(/:$/, '');
      inEnvironment = false;
    } else if (top === 'services' && indent === 4) {
      inEnvironment = text === 'environment:';
      const secrets = /^secrets: \[(.*)\]$/.exec(text);
      if (secrets)
        secretsOf.set(
          block,
          (secrets[1] as string).split(',').map((n) => n.trim()),
        );
    } else if (top === 'secrets' && indent === 2) {
      block = `secret:${text.replace(/:$/, '')}`;
    }
    for (const m of text.matchAll(REFERENCE)) {
      uses.push({
        file,
        service: block,
        name: m[1] as string,
        default: m[2]?.includes('-') ? m[3] : undefined,
      });
    }
    const entry = ENTRY.exec(text);
    if (!entry || !block) continue;
    const [, key, value] = entry as unknown as [string, string, string];
    const anchor = [...anchors.values()].find((a) => a.block === block);
    if (anchor && indent === 2) anchor.entries.set(key, unquote(value));
    if (top === 'services' && inEnvironment && indent === 6) {
      if (key === '<<') merges.push({ service: block, anchor: value.replace(/^\*/, '') });
      else environment.set(block, (environment.get(block) ?? new Map()).set(key, unquote(value)));
    }
  }
  for (const { service, anchor } of merges) {
    const merged = anchors.get(anchor);
    if (!merged) throw new Error(`${file}: ${service} merges *${anchor}, which is not defined`);
    const own = environment.get(service) ?? new Map<string, string>();
    environment.set(service, new Map([...merged.entries, ...own]));
    for (const use of uses.filter((u) => u.service === merged.block)) uses.push({ ...use, service });
  }
  for (const use of uses.filter((u) => u.service.startsWith('secret:'))) {
    const secret = use.service.slice('secret:'.length);
    for (const [service, names] of secretsOf) if (names.includes(secret)) uses.push({ ...use, service });
  }
  return {
    file,
    uses: uses.filter((u) => !u.service.startsWith('x-') && !u.service.startsWith('secret:')),
    environment,
  };
}

export function readComposeFiles(root: URL): ComposeFile[] {
  return COMPOSE_FILES.map((file) => readComposeFile(file, root));
}
