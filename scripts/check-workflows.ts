// `npm run check:workflows` keeps workflow code readable and its story in one place:
// - no file in src/workflows (any depth) over 250 lines, no function (declaration, method, arrow or
//   expression) over 80, counted from its first line to its last;
// - an incident ends only in src/workflows/incident/finish.ts: nowhere else may a terminal status
//   (RESOLVED, FAILED, ESCALATED, REJECTED) be passed to a call or assigned, `closedAt` be set, or
//   finish.ts be imported but by the story (incident/story.ts).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { TERMINAL_STATUSES } from '../src/domain/types.js';
import { PROJECT_ROOT } from './paths.js';

const FUNCTION_LIMIT = 80;
const FILE_LIMIT = 250;
const WORKFLOWS = path.join(PROJECT_ROOT, 'src', 'workflows');
const FINISH = 'incident/finish.ts';
const STORY = 'incident/story.ts';

function functionName(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name)
    return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const isTerminal = (node: ts.Node) =>
  ts.isStringLiteralLike(node) && (TERMINAL_STATUSES as readonly string[]).includes(node.text);

/** What in this file ends an incident, when the file is not the finishing step. */
function endingsOutsideFinish(source: ts.SourceFile, relative: string): string[] {
  if (relative === FINISH) return [];
  const found: string[] = [];
  const at = (node: ts.Node) =>
    `src/workflows/${relative}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && node.arguments.some(isTerminal)) {
      found.push(`${at(node)} passes a terminal status to ${node.expression.getText(source)}()`);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      const left = node.left.getText(source);
      if (/\.status$/.test(left) && isTerminal(node.right))
        found.push(`${at(node)} assigns a terminal status`);
      if (/\.closedAt$/.test(left) && node.right.getText(source) !== 'undefined')
        found.push(`${at(node)} sets closedAt`);
    }
    if (ts.isImportDeclaration(node) && relative !== STORY) {
      const from = (node.moduleSpecifier as ts.StringLiteral).text;
      if (path.posix.join(path.posix.dirname(relative), from) === 'incident/finish.js')
        found.push(`${at(node)} imports the finishing step (only ${STORY} may)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const sizes: string[] = [];
const endings: string[] = [];
let counted = 0;
const files = filesUnder(WORKFLOWS);
for (const fullPath of files) {
  const relative = path.relative(WORKFLOWS, fullPath).split(path.sep).join('/');
  const text = readFileSync(fullPath, 'utf8');
  const lineCount = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lineCount > FILE_LIMIT) sizes.push(`src/workflows/${relative} is ${lineCount} lines`);
  const source = ts.createSourceFile(fullPath, text, ts.ScriptTarget.ES2022, true);
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      counted += 1;
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > FUNCTION_LIMIT)
        sizes.push(`src/workflows/${relative}:${first + 1} ${functionName(node)} is ${lines} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  endings.push(...endingsOutsideFinish(source, relative));
}
if (sizes.length > 0) {
  console.error(
    `workflow code over its limits (files ${FILE_LIMIT} lines, functions ${FUNCTION_LIMIT}; split them into named steps):`,
  );
  for (const line of sizes) console.error(`  ${line}`);
}
if (endings.length > 0) {
  console.error(`an incident ends only in src/workflows/${FINISH} (return an Ending from the step instead):`);
  for (const line of endings) console.error(`  ${line}`);
}
if (sizes.length > 0 || endings.length > 0) process.exit(1);
console.log(
  `workflows: ${files.length} files, none over ${FILE_LIMIT} lines; ${counted} functions, none over ${FUNCTION_LIMIT}; incidents end only in ${FINISH}`,
);
