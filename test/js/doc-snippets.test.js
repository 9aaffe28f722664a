'use strict';
// The JavaScript the README and the migration guide show must type-check
// under `tsc --strict` against lib/index.d.ts: each ```js block becomes a
// TypeScript module (require('ficus') → import), with the names a snippet
// takes from the reader's gateway declared in test/types/doc-globals.d.ts.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const DOCS = ['README.md', 'docs/migration-guide.md'];

function jsBlocks(file) {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('every documented snippet compiles under tsc --strict', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-snippets-'));
  const files = [];
  for (const doc of DOCS) {
    const blocks = jsBlocks(doc);
    expect(blocks.length).toBeGreaterThan(0);
    blocks.forEach((code, i) => {
      const name = `${doc.replace(/[/.]/g, '_')}_${i + 1}.ts`;
      const ts = code.replace(/const (\w+) = require\('ficus'\);/g, "import $1 = require('ficus');");
      fs.writeFileSync(path.join(dir, name), `// ${doc}, block ${i + 1}\n${ts}\nexport {};\n`);
      files.push(name);
    });
  }
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      module: 'commonjs',
      target: 'es2022',
      lib: ['es2022'],
      esModuleInterop: true,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
      baseUrl: '.',
      paths: { ficus: [path.join(root, 'lib/index.d.ts')] },
    },
    files: [...files, path.join(root, 'test/types/doc-globals.d.ts')],
  }));
  let output = '';
  try {
    execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' });
  } catch (error) {
    output = error.stdout + error.stderr;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  expect(output).toBe('');
}, 60000);
