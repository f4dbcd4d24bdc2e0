// Reads a request body as raw bytes, up to a cap: signatures are verified on exactly these bytes.
import type { IncomingMessage } from 'node:http';
import { PayloadTooLargeError } from '../sources/errors.js';

export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw new PayloadTooLargeError(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limitBytes) throw new PayloadTooLargeError(limitBytes);
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}
