// The fenced code blocks of a markdown page, each with the `<!-- doc-test ... -->` comment
// written just above it. A markdown parser finds them (marked's lexer), not a regular
// expression over the file: fences inside lists, longer fences, `~~~` fences and HTML
// comments are markdown's business, and a parser gets them right where a pattern would not.
import { lexer, type Token, type Tokens } from 'marked';

export interface FencedBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  /** Body of the doc-test comment above the block, without `<!--` and `-->`. */
  annotation?: string;
  annotationLine?: number;
}

export class DocFormatError extends Error {}

const ANNOTATION = /^\s*<!--\s*doc-test\b([\s\S]*?)-->\s*$/;

const newlines = (s: string) => s.split('\n').length - 1;

/** Every code block of the page, in order; throws DocFormatError on a block the doc test could not see or judge. */
export function fencedBlocks(file: string, markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let line = 1;
  let pending: { text: string; line: number } | undefined;
  for (const token of lexer(markdown)) {
    const startLine = line + leadingBlankLines(token.raw);
    line += newlines(token.raw);
    if (token.type === 'space') continue;
    if (token.type === 'html' && ANNOTATION.test(token.raw)) {
      if (pending) throw new DocFormatError(`${file}:${pending.line}: doc-test comment is not followed by a code block`);
      pending = { text: ANNOTATION.exec(token.raw)![1]!, line: startLine };
      continue;
    }
    if (token.type === 'code') {
      const code = token as Tokens.Code;
      if (code.codeBlockStyle === 'indented') {
        throw new DocFormatError(`${file}:${startLine}: indented code block: use a fenced block with a language (sh for commands, text for output)`);
      }
      blocks.push({ file, line: startLine, lang: (code.lang ?? '').trim().split(/\s+/)[0] ?? '', text: code.text, annotation: pending?.text, annotationLine: pending?.line });
      pending = undefined;
      continue;
    }
    if (pending) throw new DocFormatError(`${file}:${pending.line}: doc-test comment is not followed by a code block`);
    const nested = nestedCode(token);
    if (nested) throw new DocFormatError(`${file}:${startLine}: a code block inside a ${token.type} is not run by the doc test: move it out to the top level`);
  }
  if (pending) throw new DocFormatError(`${file}:${pending.line}: doc-test comment is not followed by a code block`);
  return blocks;
}

function leadingBlankLines(raw: string): number {
  const m = /^(?:[ \t]*\n)*/.exec(raw);
  return m ? newlines(m[0]) : 0;
}

function nestedCode(token: Token): boolean {
  const children: Token[] = [];
  const t = token as { tokens?: Token[]; items?: { tokens?: Token[] }[] };
  if (t.tokens) children.push(...t.tokens);
  for (const item of t.items ?? []) children.push(...(item.tokens ?? []));
  return children.some((c) => c.type === 'code' || nestedCode(c));
}

/** Languages whose blocks are commands to run; blocks in other languages are shown, not run. */
export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);
/** Languages the docs use for code that is not run here (a job module, a config file, output). */
export const SHOWN_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'json', 'yaml', 'yml', 'text', 'proto', 'protobuf', 'diff', 'toml', 'ini', 'html', 'css']);
