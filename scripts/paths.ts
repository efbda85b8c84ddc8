// Where the project keeps what it installs and generates (all git-ignored).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');
export const DATA_DIR = path.join(PROJECT_ROOT, '.data');
