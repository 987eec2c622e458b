// Splits pretty-printed JSON into classed pieces for display (no HTML strings: each piece is
// rendered as a text node inside a <span>).

export type JsonPieceKind = 'key' | 'str' | 'num' | 'lit' | 'punc' | 'ws';

export interface JsonPiece {
  text: string;
  kind: JsonPieceKind;
}

const TOKEN =
  /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\],:])|(\s+)|(.)/g;

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}

export function jsonPieces(text: string): JsonPiece[] {
  const out: JsonPiece[] = [];
  for (const m of text.matchAll(TOKEN)) {
    if (m[1] !== undefined) {
      if (m[2] !== undefined) {
        out.push({ text: m[1], kind: 'key' }, { text: m[2], kind: 'punc' });
      } else out.push({ text: m[1], kind: 'str' });
    } else if (m[3] !== undefined) out.push({ text: m[3], kind: 'num' });
    else if (m[4] !== undefined) out.push({ text: m[4], kind: 'lit' });
    else if (m[5] !== undefined) out.push({ text: m[5], kind: 'punc' });
    else out.push({ text: m[0], kind: 'ws' });
  }
  return out;
}

/** A body as readable text: JSON pretty-printed, anything else as it is. */
export function prettyBody(body: string): { text: string; json: boolean } {
  const t = body.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { text: prettyJson(JSON.parse(t)), json: true };
    } catch {
      /* not JSON after all */
    }
  }
  // An HTML form body: one parameter per line, decoded.
  if (/^[\w.~%+-]+=[^\s]*(&[\w.~%+-]+=[^\s]*)*$/.test(t) && t.includes('&')) {
    const lines = t.split('&').map((pair) => {
      const [k, v = ''] = pair.split('=');
      const dec = (x: string) => {
        try {
          return decodeURIComponent(x.replace(/\+/g, ' '));
        } catch {
          return x;
        }
      };
      return `${dec(k)}=${dec(v)}`;
    });
    return { text: lines.join('\n'), json: false };
  }
  return { text: body, json: false };
}
