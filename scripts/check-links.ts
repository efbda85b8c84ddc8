// `npm run check:links` keeps the documentation navigable: it reads README.md and every docs/**/*.md and
// fails on a relative link whose file does not exist, on an #anchor that names no heading of its target
// (GitHub's slugs), and on a page under docs/ that docs/README.md does not link. External links
// (http, https, mailto, any other scheme) are not fetched: nothing leaves the machine.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './paths.js';

export interface LinkProblem {
  /** The page, relative to the checked root, with `/` separators. */
  file: string;
  /** 1-based; 0 for a problem of the whole page (not linked from the index). */
  line: number;
  link: string;
  reason: string;
}

interface Link {
  line: number;
  target: string;
}

const INDEX = 'docs/README.md';

/** Every checked page: README.md and docs/**\/*.md, relative to `root`. */
export function markdownPages(root: string): string[] {
  const pages = existsSync(path.join(root, 'README.md')) ? ['README.md'] : [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.md')) pages.push(rel);
    }
  };
  if (existsSync(path.join(root, 'docs'))) walk('docs');
  return pages;
}

/** The lines of a page with fenced code blanked and inline code spans turned into spaces. */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    if (marker) {
      fence = marker;
      return '';
    }
    return line.replace(/(`+)(.+?)\1/g, (span) => ' '.repeat(span.length));
  });
}

// [text](target "title") and ![alt](target), one level of brackets in the text ([![img](a)](b)).
const INLINE_LINK =
  /!?\[(?:[^[\]]|\[[^[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const HTML_LINK = /<(?:a|img)\b[^>]*?\s(?:href|src)\s*=\s*"([^"]*)"/gi;

function linksOf(text: string): Link[] {
  const links: Link[] = [];
  proseLines(text).forEach((line, i) => {
    const add = (target: string | undefined) => {
      if (target) links.push({ line: i + 1, target: target.replace(/^<|>$/g, '') });
    };
    for (const match of line.matchAll(INLINE_LINK)) add(match[1]);
    for (const match of line.matchAll(HTML_LINK)) add(match[1]);
    add(REFERENCE_DEFINITION.exec(line)?.[1]);
  });
  return links;
}

/** GitHub's anchor for a heading's text: lowercase, punctuation but - and _ dropped, spaces to -. */
export function slugOf(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/`/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page offers: its headings' slugs (a repeated one gets -1, -2, ...) and explicit ids. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const addHeading = (heading: string) => {
    const base = slugOf(heading);
    let slug = base;
    while (anchors.has(slug)) {
      const n = (counts.get(base) ?? 0) + 1;
      counts.set(base, n);
      slug = `${base}-${n}`;
    }
    anchors.add(slug);
  };
  const raw = text.split('\n');
  const lines = proseLines(text);
  // Explicit ids are raw HTML; headings are read from prose only (not from fenced code).
  for (const match of text.matchAll(/<a\s[^>]*?(?:name|id)\s*=\s*"([^"]+)"/gi)) anchors.add(match[1] ?? '');
  lines.forEach((line, i) => {
    const original = raw[i] ?? '';
    if (/^\s{0,3}#{1,6}\s/.test(line)) {
      addHeading(original.replace(/^\s{0,3}#{1,6}\s+/, '').replace(/\s+#+\s*$/, ''));
      return;
    }
    const next = lines[i + 1];
    const underline = next !== undefined && /^\s{0,3}(=+|-+)\s*$/.test(next);
    if (line.trim() && underline && !/^\s{0,3}([-*+>|]|\d+[.)])/.test(line)) addHeading(original);
  });
  return anchors;
}

/** A link's percent-escapes decoded; a malformed escape is taken as written. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** Checks every page under `root`; an empty list means every link and anchor resolves. */
export function checkLinks(root: string): LinkProblem[] {
  const pages = markdownPages(root);
  const problems: LinkProblem[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (file: string) => {
    let anchors = anchorCache.get(file);
    if (!anchors) {
      anchors = anchorsOf(readFileSync(path.join(root, file), 'utf8'));
      anchorCache.set(file, anchors);
    }
    return anchors;
  };
  const linkedFromIndex = new Set<string>();

  for (const page of pages) {
    for (const { line, target } of linksOf(readFileSync(path.join(root, page), 'utf8'))) {
      if (EXTERNAL.test(target) || target.startsWith('//')) continue;
      const report = (reason: string) => problems.push({ file: page, line, link: target, reason });
      const hashAt = target.indexOf('#');
      const filePart = hashAt === -1 ? target : target.slice(0, hashAt);
      const anchor = hashAt === -1 ? undefined : decoded(target.slice(hashAt + 1));
      let resolved = filePart
        ? path.posix.normalize(
            path.posix.join(path.posix.dirname(page), decoded(filePart.split('?')[0] ?? '')),
          )
        : page;
      if (resolved.startsWith('../') || resolved === '..') {
        report('points outside the repository');
        continue;
      }
      if (!existsSync(path.join(root, resolved))) {
        report('no such file');
        continue;
      }
      if (statSync(path.join(root, resolved)).isDirectory()) {
        resolved = path.posix.join(resolved, 'README.md');
        if (!existsSync(path.join(root, resolved))) {
          if (anchor !== undefined) report('a folder without README.md has no anchors');
          continue;
        }
      }
      if (page === INDEX) linkedFromIndex.add(resolved);
      if (anchor === undefined || anchor === '') continue;
      if (!resolved.endsWith('.md')) {
        if (!/^L\d+(-L\d+)?$/.test(anchor))
          report(`#${anchor}: only line anchors (#L12) in a non-Markdown file`);
        continue;
      }
      if (!anchorsIn(resolved).has(anchor)) report(`no heading with anchor #${anchor} in ${resolved}`);
    }
  }

  if (pages.some((page) => page.startsWith('docs/'))) {
    if (!pages.includes(INDEX))
      problems.push({ file: INDEX, line: 0, link: '', reason: 'the index of docs/ is missing' });
    else
      for (const page of pages)
        if (page.startsWith('docs/') && page !== INDEX && !linkedFromIndex.has(page))
          problems.push({ file: page, line: 0, link: '', reason: `not linked from ${INDEX}` });
  }
  return problems;
}

function main(): void {
  const problems = checkLinks(PROJECT_ROOT);
  const pages = markdownPages(PROJECT_ROOT).length;
  if (problems.length === 0) {
    console.log(`links: ${pages} pages, every relative link and anchor resolves, every page is in ${INDEX}`);
    return;
  }
  console.error(`links: ${problems.length} broken in ${pages} pages:`);
  for (const p of problems) console.error(`  ${p.file}:${p.line}${p.link ? ` ${p.link}` : ''}: ${p.reason}`);
  process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
