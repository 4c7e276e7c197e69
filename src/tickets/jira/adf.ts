/**
 * Atlassian Document Format, the body the platform REST API v3 takes and returns for comments and
 * descriptions. rs-bridge writes plain text: a paragraph a block of lines, a hardBreak a line break
 * (ADF refuses empty text nodes, so blank lines only separate paragraphs).
 */
export interface AdfNode {
  version?: number;
  type: string;
  text?: string;
  content?: AdfNode[];
  attrs?: Record<string, unknown>;
  marks?: unknown[];
}

export function textToAdf(text: string): AdfNode {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((block) => block.split('\n'))
    .filter((lines) => lines.some((l) => l.length > 0))
    .map((lines) => ({
      type: 'paragraph',
      content: lines.flatMap((line, i) => [
        ...(i > 0 ? [{ type: 'hardBreak' }] : []),
        ...(line.length ? [{ type: 'text', text: line }] : []),
      ]),
    }));
  return { type: 'doc', version: 1, content: paragraphs.length ? paragraphs : [{ type: 'paragraph', content: [] }] };
}

/** The text of a document (or of a v2 string body), lines joined by line breaks. */
export function adfToText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (!body || typeof body !== 'object') return '';
  const node = body as AdfNode;
  if (node.type === 'text') return node.text ?? '';
  if (node.type === 'hardBreak') return '\n';
  const inner = (node.content ?? []).map(adfToText);
  return node.type === 'doc' ? inner.join('\n\n') : inner.join('');
}
