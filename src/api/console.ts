// The approval console at /console: plain HTML, CSS and one script, served as they are (no build step).
// The page reads the same JSON API as everyone else, with the token the person types; this route only
// serves the files and the two settings the page cannot know (where the Temporal Web UI is, which namespace).
import { readFileSync } from 'node:fs';
import express, { type Router } from 'express';

/**
 * The page may load only its own files and talk only to this API: no CDN, no fonts, nothing inline,
 * so injected markup could neither run script nor send anything anywhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's files, beside this module under tsx and in any build that copies the folder with it. */
const ASSETS_DIR = new URL('./console/', import.meta.url);

const ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

/** Read once when the API starts: a missing file fails the start, not a person's first visit. */
function loadAssets(): Map<AssetName, string> {
  const loaded = new Map<AssetName, string>();
  for (const name of Object.keys(ASSETS) as AssetName[]) {
    const url = new URL(name, ASSETS_DIR);
    try {
      loaded.set(name, readFileSync(url, 'utf8'));
    } catch (err) {
      throw new Error(
        `the approval console's ${name} is missing at ${url.pathname}: a build must copy src/api/console/ beside console.js (${(err as Error).message})`,
      );
    }
  }
  return loaded;
}

export interface ConsoleSettings {
  /** The Temporal Web UI's base URL (MEDIC_TEMPORAL_UI_URL). */
  temporalUiUrl: string;
  namespace: string;
}

export function consoleRoutes(settings: ConsoleSettings): Router {
  const assets = loadAssets();
  const router = express.Router();
  const send =
    (name: AssetName): express.RequestHandler =>
    (_req, res) => {
      res.setHeader('Content-Security-Policy', CONSOLE_CSP);
      res.type(ASSETS[name]).send(assets.get(name));
    };
  // Non-strict routing: /console/ is served too.
  router.get('/console', send('index.html'));
  router.get('/console/console.js', send('console.js'));
  router.get('/console/console.css', send('console.css'));
  router.get('/console/settings.json', (_req, res) => {
    res.json({ temporalUiUrl: settings.temporalUiUrl, namespace: settings.namespace });
  });
  return router;
}
