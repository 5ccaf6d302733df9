/** Bytes kept of a VM's console log: the last 64 KiB (Nova returns a tail of the console file). */
export const CONSOLE_LOG_MAX_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/**
 * A VM's serial console log as a ring: appends keep the last `maxBytes` bytes (UTF-8), cut at a line
 * start so no partial line or character is kept. Survives reboots (a boot appends); dropped with the VM.
 */
export class ConsoleLog {
  private text = '';

  constructor(private readonly maxBytes: number = CONSOLE_LOG_MAX_BYTES) {}

  /** Appends lines (each ends with '\n'). */
  appendLines(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.text += lines.map((l) => `${l}\n`).join('');
    const bytes = encoder.encode(this.text);
    if (bytes.length <= this.maxBytes) return;
    const kept = decoder.decode(bytes.subarray(bytes.length - this.maxBytes));
    const nl = kept.indexOf('\n');
    this.text = nl >= 0 ? kept.slice(nl + 1) : '';
  }

  /** Size of the kept log, bytes. */
  get sizeBytes(): number {
    return encoder.encode(this.text).length;
  }

  /** The whole kept log. */
  contents(): string {
    return this.text;
  }

  /** See {@link tailLines}. */
  tail(lines?: number): string {
    return tailLines(this.text, lines);
  }
}

/**
 * Nova's console tail (compute manager `_tail_log`): undefined or -1 = everything; 0 = ''; N = the
 * last N elements of the text split on '\n' (a trailing newline counts as one empty last element, as in Nova).
 */
export function tailLines(text: string, lines?: number): string {
  if (lines === undefined || lines < 0) return text;
  if (lines === 0) return '';
  return text.split('\n').slice(-lines).join('\n');
}
