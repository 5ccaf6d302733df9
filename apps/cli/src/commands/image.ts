import * as fs from 'node:fs';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { image } from '@minicloud/proto';
import { collect, parseKeyValues } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { OutputOptions } from '../output';
import { listAll, resolveImage } from '@minicloud/client';
import { imageView } from '../views';

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

  withOutputOptions(cmd.command('list').description('list images')).action(async (o: OutputOptions) => {
    const c = await ctx.session.client('image');
    const images = await listAll(async (pageToken) => {
      const r = await c.listImages({ page: { pageToken } });
      return { items: r.images, next: r.page?.nextPageToken };
    });
    ctx.printList(images.map(imageView), [
      { header: 'ID', key: 'id' },
      { header: 'Name', key: 'name' },
      { header: 'Status', key: 'status' },
    ], o);
  });

  withOutputOptions(cmd.command('show <image>').description('show one image (id or name)')).action(async (ref: string, o: OutputOptions) => {
    ctx.printShow(imageView(await resolveImage(await ctx.session.client('image'), ref)), o);
  });

  cmd
    .command('delete <image...>')
    .description('delete images')
    .action(async (refs: string[]) => {
      const c = await ctx.session.client('image');
      for (const ref of refs) await c.deleteImage({ imageId: (await resolveImage(c, ref)).id });
    });
}
