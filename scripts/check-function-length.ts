// `npm run check` keeps workflow code readable: no function (declaration, method, arrow or expression)
// in src/workflows may span more than 80 lines, counted from its first line to its last.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { PROJECT_ROOT } from './paths.js';

const LIMIT = 80;
const DIR = path.join(PROJECT_ROOT, 'src', 'workflows');

function functionName(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name)
    return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

const offenders: string[] = [];
let counted = 0;
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
  const fullPath = path.join(DIR, file);
  const source = ts.createSourceFile(fullPath, readFileSync(fullPath, 'utf8'), ts.ScriptTarget.ES2022, true);
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      counted += 1;
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > LIMIT)
        offenders.push(`src/workflows/${file}:${first + 1} ${functionName(node)} is ${lines} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
if (offenders.length > 0) {
  console.error(`functions in src/workflows longer than ${LIMIT} lines (split them into named steps):`);
  for (const line of offenders) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`function length: ${counted} functions in src/workflows, none over ${LIMIT} lines`);
