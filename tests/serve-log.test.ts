import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineBatch, wholeLinePieces } from '../src/cli/io.js';

/** serve's request log: one write per turn of the event loop, every line once, in order. */

function recorder() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      done();
    },
  });
  return { writes, stream };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('lineBatch', () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const { writes, stream } = recorder();
    const out = lineBatch(stream);
    for (let i = 0; i < 100; i++) out.println(`line ${i}`);
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual([Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join('')]);
    out.println('next');
    await turn();
    expect(writes.slice(1)).toEqual(['next\n']);
  });

  it('flush writes what is pending at once; lines after it still follow it', async () => {
    const { writes, stream } = recorder();
    const out = lineBatch(stream);
    out.println('a');
    out.flush();
    expect(writes).toEqual(['a\n']);
    out.println('b');
    out.println('c');
    out.flush();
    out.println('d');
    await turn();
    await turn();
    expect(writes.join('')).toBe('a\nb\nc\nd\n');
  });
});

describe('wholeLinePieces (several serve processes share one stdout)', () => {
  it('cuts a long batch into writes of whole lines of at most 4096 bytes, losing nothing', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `2026-12-01T10:00:00.000Z POST /unsubscribe/[token] 200 unsubscribed ${i}ms p2 ${'é'.repeat(i % 7)}`);
    const text = `${lines.join('\n')}\n`;
    const pieces = wholeLinePieces(text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(text);
    for (const piece of pieces) {
      expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(4096);
      expect(piece.endsWith('\n')).toBe(true);
    }
  });

  it('writes a short batch at once, and a single longer line whole', () => {
    expect(wholeLinePieces('a\nb\n')).toEqual(['a\nb\n']);
    const long = `${'x'.repeat(5000)}\n`;
    expect(wholeLinePieces(`short\n${long}after\n`)).toEqual(['short\n', long, 'after\n']);
  });
});
