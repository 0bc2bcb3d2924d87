import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  locateErrors,
  markdownFiles,
  preludeFor,
  readSamples,
  runProgram,
  writeSamples,
} from '../scripts/lib/samples.js';

// The samples check of `npm run check` (scripts/lib/samples.ts): which fenced blocks are checked,
// what a fragment's prelude supplies, and that a program that does not end fails.

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tokenflight-samples-'));
  mkdirSync(join(root, 'docs', 'api'), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
  return root;
}

const PAGE = `# A page

<!-- prelude
import axios from 'axios';
declare const api: import('axios').AxiosInstance;
declare const appId: string;
-->

\`\`\`ts
await api.get('/x');
\`\`\`

\`\`\`sh
npm install
\`\`\`

\`\`\`ts run
import { symbl } from 'tokenflight';
const appId = 'mine';
\`\`\`

\`\`\`ts
import { symbl } from 'tokenflight';
const appId = 'mine';
axios.create();
\`\`\`
`;

describe('the samples check', () => {
  test('reads the TypeScript samples of README.md and docs/ but docs/api/, with their lines and `run` flag', () => {
    const root = repo({
      'README.md': PAGE,
      'docs/guide.md': '```ts\nconst a = 1;\n```\n',
      'docs/api/x.md': '```ts\nnope\n```\n',
    });
    expect(markdownFiles(root)).toEqual(['README.md', join('docs', 'guide.md')]);
    const { samples, prelude } = readSamples(root, 'README.md');
    expect(samples.map((sample) => [sample.line, sample.run])).toEqual([
      [10, false],
      [18, true],
      [23, false],
    ]);
    expect(prelude).toContain("declare const api: import('axios').AxiosInstance;");
  });

  test('a fragment gets the whole prelude; a sample that imports gets only its declarations, so a missing import fails', () => {
    const root = repo({ 'README.md': PAGE });
    const { samples, prelude } = readSamples(root, 'README.md');
    const [fragment, program, importing] = samples;
    expect(preludeFor(fragment!, prelude)).toContain("import axios from 'axios';");
    expect(preludeFor(program!, prelude)).toBe('');
    const head = preludeFor(importing!, prelude);
    expect(head).not.toContain('import axios');
    expect(head).toContain('declare const api');
    expect(head).not.toContain('declare const appId'); // the sample declares it itself
  });

  test('an unknown flag in the info string is refused, naming the line', () => {
    const root = repo({ 'README.md': '# x\n\n```ts runs\nconst a = 1;\n```\n' });
    expect(() => readSamples(root, 'README.md')).toThrow('README.md:3: unknown sample flag runs');
  });

  test('errors point at the line of the Markdown file, past the prelude', () => {
    const root = repo({ 'README.md': PAGE });
    const dir = join(root, 'out');
    const files = writeSamples(root, dir);
    const fragment = files[0]!;
    expect(readFileSync(join(dir, fragment.file), 'utf8')).toContain("await api.get('/x');\nexport {};");
    const line = fragment.offset + 1;
    expect(locateErrors(`${fragment.file}(${line},7): error TS2304: Cannot find name 'x'.`, files, dir, root)).toBe(
      `README.md:10:7 [${join('out', fragment.file)}]: error TS2304: Cannot find name 'x'.`,
    );
  });

  test('a program that does not exit fails, and so does one that throws; one that ends passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenflight-programs-'));
    writeFileSync(join(dir, 'hangs.mjs'), 'setInterval(() => {}, 1000);\n');
    writeFileSync(join(dir, 'throws.mjs'), "throw new Error('boom');\n");
    writeFileSync(join(dir, 'ends.mjs'), "console.log('done');\n");
    expect(runProgram(join(dir, 'hangs.mjs'), dir, 1_000)).toMatch(/^did not exit within 1 s/);
    expect(runProgram(join(dir, 'throws.mjs'), dir)).toMatch(/^exited with code 1:[\s\S]*boom/);
    expect(runProgram(join(dir, 'ends.mjs'), dir)).toBeUndefined();
  });
});
