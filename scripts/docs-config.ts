// `npm run docs:config`: writes docs/operations/configuration.md (a table per group) and .env.example
// from the settings table (src/domain/settings-table.ts), so neither can drift from what Medic reads, and
// the demo tour's block in README.md and docs/tour.md from scripts/tour.ts (what npm start's banner says).
// `--check` writes nothing and fails when a file differs from what would be written.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../src/domain/duration.js';
import {
  SETTING_GROUPS,
  SETTINGS,
  type SettingGroup,
  type SettingRow,
} from '../src/domain/settings-table.js';
import { PROJECT_ROOT } from './paths.js';
import { tourLines } from './tour.js';

export const CONFIGURATION_PAGE = 'docs/operations/configuration.md';
export const ENV_EXAMPLE = '.env.example';
/** Everything above this line of the configuration page is written by hand and kept. */
export const GENERATED_BELOW = '<!-- generated below -->';

const ROWS: readonly SettingRow[] = SETTINGS;
const GROUPS = Object.keys(SETTING_GROUPS) as SettingGroup[];

const PAGE_INTRO = `# Configuration

Every setting is an environment variable, validated at start: a bad value stops Medic with a message
that names the variable. Durations are written \`500ms\`, \`30s\`, \`15m\`, \`4h\`, \`1d\` or as a number of
milliseconds; lists are comma-separated; an empty value counts as unset where the variable has no default.

The compose stack (docker-compose.yml) reads \`.env\`: copy \`.env.example\`, which lists the same
variables with the values the compose files use. The last column names the compose services a variable
set in \`.env\` reaches; a variable that reaches none is read by Medic but not passed by the compose files
(add it to the service's \`environment\` to use it), and "set by docker-compose.yml" means the file sets it
itself.

The tables below are written by \`npm run docs:config\` from src/domain/settings-table.ts: change a
setting there, then run it.
`;

const code = (text: string) => `\`${text}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** What the parser accepts, where the doc does not say it: a range, a duration's bounds, the words. */
function valueHint(row: SettingRow): string | undefined {
  const why = row.bounds ? ` (${row.bounds})` : '';
  switch (row.parser) {
    case 'int':
      return `An integer from ${row.min} to ${row.max}${why}.`;
    case 'number':
      return `A number from ${row.min} to ${row.max}${why}.`;
    case 'duration':
      return row.min !== undefined && row.max !== undefined
        ? `A duration from ${formatDuration(row.min)} to ${formatDuration(row.max)}${why}.`
        : undefined;
    case 'enum':
    case 'optional-enum':
    case 'switch':
    case 'worker-role':
      return `One of ${(row.values ?? []).map(code).join(', ')}.`;
    default:
      return undefined;
  }
}

function defaultCell(row: SettingRow): string {
  const value =
    row.default === undefined || row.default === ''
      ? (row.unsetMeans ?? (row.default === '' ? 'empty' : 'unset'))
      : code(row.default);
  const compose =
    row.composeDefault === undefined
      ? ''
      : `; compose: ${row.composeDefault === '' ? 'empty' : code(row.composeDefault)}`;
  return `${value}${compose}${row.secret ? '; a secret' : ''}`;
}

function docCell(row: SettingRow): string {
  const readBy = !row.parser && row.readBy ? ` Read by ${row.readBy.map(code).join(', ')}.` : '';
  return [row.doc, valueHint(row)].filter(Boolean).join(' ') + readBy;
}

function servicesCell(row: SettingRow): string {
  const passed = (row.services ?? []).join(', ');
  const set = row.composeSets
    ? `set by docker-compose.yml for ${row.composeSets.services.join(', ')}: ${code(row.composeSets.value)}`
    : '';
  return [passed, set].filter(Boolean).join('; ') || 'not passed';
}

function groupTable(group: SettingGroup): string {
  const rows = ROWS.filter((row) => row.group === group);
  const { title, about } = SETTING_GROUPS[group];
  const lines = [
    `## ${title}`,
    '',
    about,
    '',
    '| Variable | Default | What it does | Compose services |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${code(row.name)} | ${cell(defaultCell(row))} | ${cell(docCell(row))} | ${cell(servicesCell(row))} |`,
    ),
  ];
  return lines.join('\n');
}

/** The configuration page: `current`'s part above the marker (or a short intro), then the tables. */
export function renderConfigurationPage(current: string | undefined): string {
  const marker = current?.split('\n').indexOf(GENERATED_BELOW) ?? -1;
  const head =
    current !== undefined && marker >= 0 ? current.split('\n').slice(0, marker).join('\n') : PAGE_INTRO;
  return `${head.replace(/\n*$/, '\n\n')}${GENERATED_BELOW}\n\n${GROUPS.map(groupTable).join('\n\n')}\n`;
}

const ENV_HEADER = `# Settings of the compose stack (docker-compose.yml). Copy to .env and fill in the secrets:
#   cp .env.example .env && $EDITOR .env && docker compose up -d
# Every value below is the default the compose file uses when the variable is unset. Secrets have no
# default anywhere (not in this file's values, not in the images): Medic refuses to start without them.
# Written by \`npm run docs:config\` from src/domain/settings-table.ts; docs/operations/configuration.md
# says more about each variable.`;

/** A comment, wrapped at 110 columns, never inside a `code span`. */
function comment(text: string, width = 110): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.match(/(\S*`[^`]*`\S*|\S+)/g) ?? []) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

const section = (title: string) => `# --- ${title} `.padEnd(110, '-');
/** Reaches a compose service when set in .env. */
const passed = (row: SettingRow) => (row.services?.length ?? 0) > 0;
const envValue = (row: SettingRow) => (row.secret ? '' : (row.composeDefault ?? row.default ?? ''));
const entry = (row: SettingRow) => [...comment(row.doc), `${row.name}=${envValue(row)}`];

function envGroup(group: SettingGroup): string[] {
  const rows = ROWS.filter((row) => row.group === group);
  const shown = rows.filter((row) => passed(row) && !row.secret);
  const elsewhere = rows.filter((row) => !passed(row) && (row.parser || row.composeSets));
  if (shown.length === 0 && elsewhere.length === 0) return [];
  const lines = ['', section(SETTING_GROUPS[group].title), ...comment(SETTING_GROUPS[group].about)];
  for (const row of shown) lines.push(...entry(row));
  if (elsewhere.length > 0) {
    lines.push(
      ...comment(
        "Read by Medic, not passed by the compose files: to set one, add it to the service's environment in docker-compose.yml.",
      ),
      ...elsewhere.map((row) =>
        row.composeSets
          ? `# ${row.name}: docker-compose.yml sets it to ${row.composeSets.value}`
          : `# ${row.name}=${row.secret ? '' : (row.default ?? '')}`,
      ),
    );
  }
  return lines;
}

/** .env.example: the secrets first (each empty), then every group's variables the compose files pass. */
export function renderEnvExample(): string {
  const secrets = ROWS.filter((row) => row.secret && passed(row));
  const lines = [
    ENV_HEADER,
    '',
    section('Secrets: generate tokens and passwords with `openssl rand -hex 24`'),
    ...secrets.flatMap(entry),
    ...GROUPS.flatMap(envGroup),
  ];
  return `${lines.join('\n')}\n`;
}

/** The pages with the tour's block, between these two lines. */
export const TOUR_PAGES = ['README.md', 'docs/tour.md'];
const TOUR_BEGIN = '<!-- the tour: written by npm run docs:config from scripts/tour.ts -->';
const TOUR_END = '<!-- end of the tour -->';

/** A page with its tour block written from scripts/tour.ts (as on a machine with an engine, npm start's defaults). */
export function renderTourBlock(current: string, file: string): string {
  const begin = current.indexOf(TOUR_BEGIN);
  const end = current.indexOf(TOUR_END);
  if (begin < 0 || end < begin) throw new Error(`${file} has no tour block (${TOUR_BEGIN} ... ${TOUR_END})`);
  const lines = tourLines('http://127.0.0.1:8080', { engine: true, memoryLimitMb: 384 });
  const block = [TOUR_BEGIN, '```sh', ...lines, '```', ''].join('\n');
  return current.slice(0, begin) + block + current.slice(end);
}

/** The files as the table and the tour would write them, by path from the project root. */
export function renderedFiles(root = PROJECT_ROOT): Record<string, string> {
  const page = path.join(root, CONFIGURATION_PAGE);
  const files: Record<string, string> = {
    [CONFIGURATION_PAGE]: renderConfigurationPage(existsSync(page) ? readFileSync(page, 'utf8') : undefined),
    [ENV_EXAMPLE]: renderEnvExample(),
  };
  for (const file of TOUR_PAGES)
    files[file] = renderTourBlock(readFileSync(path.join(root, file), 'utf8'), file);
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of Object.entries(renderedFiles())) {
    const target = path.join(PROJECT_ROOT, file);
    const current = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
    if (current === text) continue;
    if (check) {
      console.error(`${file} differs from the settings table: run npm run docs:config`);
      stale++;
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.log(`wrote ${file}`);
  }
  if (stale > 0) process.exit(1);
}
