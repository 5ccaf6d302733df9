import * as fs from 'node:fs';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { image } from '@minicloud/proto';
import { collect, parseKeyValues } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import { ID_NAME, type OutputOptions } from '../output';
import { pages, resolveImage } from '@minicloud/client';
import { imageView } from '../views';
import { registerListShowDelete } from './resource-commands';

/** Upload chunk size: the ImageService limit of 1 MiB per message. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * The UploadImage client stream for a file: first `{imageId}`, then chunks of at most
 * {@link UPLOAD_CHUNK_BYTES}; `onBytes` is told the running total after each chunk.
 */
export async function* uploadMessages(imageId: string, file: string, onBytes: (sentBytes: number) => void = () => undefined): AsyncIterable<Partial<image.UploadImageRequest>> {
  yield { imageId };
  let sent = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: UPLOAD_CHUNK_BYTES })) {
    const buf = chunk as Buffer;
    sent += buf.length;
    yield { chunk: buf };
    onBytes(sent);
  }
}

interface CreateOptions extends OutputOptions {
  file?: string;
  diskFormat?: string;
  containerFormat: string;
  public?: boolean;
  property?: string[];
}

/** `image create|list|show|delete`. */
export function registerImageCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('image').description('images (ImageService)');

  withOutputOptions(
    cmd
      .command('create <name>')
      .description('create an image and upload its bytes from --file')
      .option('--file <path>', 'local file to upload')
      .option('--disk-format <format>', 'qcow2, raw, vmdk, vhd, vhdx, iso (default: detected)')
      .option('--container-format <format>', 'bare or ovf', 'bare')
      .option('--public', 'visible to every project')
      .option('--property <key=value>', 'image property (repeatable)', collect),
  ).action(async (name: string, o: CreateOptions) => {
    const properties = parseKeyValues('--property', o.property);
    let sizeBytes = 0;
    if (o.file !== undefined) {
      try {
        const st = fs.statSync(o.file);
        if (!st.isFile()) throw new Error('not a regular file');
        sizeBytes = st.size;
      } catch (e) {
        throw new CliError(`cannot read --file ${o.file}: ${(e as Error).message}`, 'INVALID_ARGUMENT');
      }
    }
    const c = await ctx.session.client('image');
    const created = (
      await c.createImage({
        name,
        diskFormat: o.diskFormat ?? '',
        containerFormat: o.containerFormat,
        visibility: o.public ? image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC : image.ImageVisibility.IMAGE_VISIBILITY_PRIVATE,
        properties,
      })
    ).image;
    if (!created) throw new CliError('image service returned no image', 'INTERNAL');
    let result = created;
    if (o.file !== undefined) {
      const bar = ctx.io.stderr.isTTY
        ? new SingleBar({ stream: ctx.io.stderr as NodeJS.WritableStream, format: '{bar} {percentage}% | {value}/{total} bytes', hideCursor: true })
        : undefined;
      bar?.start(sizeBytes, 0);
      try {
        result = (await c.uploadImage(uploadMessages(created.id, o.file, (n) => bar?.update(n)), { deadlineMs: 3_600_000 })).image ?? created;
      } catch (e) {
        // Leave nothing half-created: a queued image without bytes is useless.
        await c.deleteImage({ imageId: created.id }).catch(() => undefined);
        throw e;
      } finally {
        bar?.stop();
      }
    }
    ctx.printShow(imageView(result), o);
  });

  const images = () => ctx.session.client('image');
  registerListShowDelete(cmd, ctx, {
    noun: 'image',
    list: () => pages((page) => images().listImages({ page }), 'images'),
    columns: [
      ...ID_NAME,
      { header: 'Status', key: 'status' },
    ],
    view: imageView,
    resolve: (ref) => resolveImage(images(), ref),
    remove: (imageId) => images().deleteImage({ imageId }),
  });
}
