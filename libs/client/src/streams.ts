import type { image } from '@minicloud/proto';

/** Largest chunk ImageService.UploadImage accepts in one message (1 MiB, as its contract says). */
export const IMAGE_UPLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * The message stream of ImageService.UploadImage from any byte source (a file stream, an HTTP
 * request body): the image id first, then the bytes re-cut into chunks of at most `maxChunkBytes`
 * (default {@link IMAGE_UPLOAD_CHUNK_BYTES}); empty pieces are dropped. Bytes are passed on as they
 * arrive (nothing is buffered beyond one source piece), so a caller's stream back-pressure holds.
 * `onBytes` is told the running total after each chunk.
 */
export async function* imageUploadMessages(
  imageId: string,
  source: AsyncIterable<Uint8Array | string>,
  opts: { maxChunkBytes?: number; onBytes?: (sentBytes: number) => void } = {},
): AsyncIterable<Partial<image.UploadImageRequest>> {
  const max = opts.maxChunkBytes ?? IMAGE_UPLOAD_CHUNK_BYTES;
  yield { imageId };
  let sent = 0;
  for await (const piece of source) {
    const buf = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let at = 0; at < buf.length; at += max) {
      const chunk = buf.subarray(at, Math.min(at + max, buf.length));
      sent += chunk.length;
      yield { chunk };
      opts.onBytes?.(sent);
    }
  }
}

/** The bytes of a server stream of `{ chunk }` messages (ImageService.DownloadImage), as an async iterable of chunks. */
export async function* chunksOf(messages: AsyncIterable<{ chunk: Uint8Array }>): AsyncIterable<Uint8Array> {
  for await (const m of messages) if (m.chunk.length > 0) yield m.chunk;
}
