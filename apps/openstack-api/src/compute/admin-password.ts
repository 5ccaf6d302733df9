import { randomInt } from 'node:crypto';

/**
 * The symbol groups of Nova's generated passwords (nova/utils.py DEFAULT_PASSWORD_SYMBOLS): digits,
 * upper and lower case letters without the look-alikes 0, 1, I, O and l.
 */
export const PASSWORD_SYMBOL_GROUPS = ['23456789', 'ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz'] as const;

/** Length of a generated password (Nova's `password_length` option, default 12). */
export const GENERATED_PASSWORD_LENGTH = 12;

/**
 * A random guest password as Nova's utils.generate_password makes one: `length` characters, at
 * least one from each symbol group, the rest from all of them, in random order (node:crypto's
 * randomInt, a CSPRNG).
 * @param length at least the number of groups
 */
export function generatePassword(length: number = GENERATED_PASSWORD_LENGTH): string {
  const all = PASSWORD_SYMBOL_GROUPS.join('');
  const chars = PASSWORD_SYMBOL_GROUPS.map((g) => g[randomInt(g.length)]);
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  // Fisher-Yates, so the group-guaranteed characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** The password a create, rebuild or rescue body asks for (its `adminPass`), else a generated one (Nova's _get_server_admin_password). */
export function adminPassOf(body: { adminPass?: unknown } | null | undefined): string {
  return typeof body?.adminPass === 'string' ? body.adminPass : generatePassword();
}
