import { aggregateValues } from '../aggregate-metadata';
import { HostFilter, PASS, reject } from '../host-filter';

const SCOPE = 'aggregate_instance_extra_specs';

/**
 * Nova's AggregateInstanceExtraSpecsFilter: every flavor extra spec scoped
 * `aggregate_instance_extra_specs:<key>` (or unscoped, as Nova's legacy behaviour) must equal the
 * metadata `<key>` of at least one of the host's aggregates. Specs in other scopes (`hw:`...) are
 * ignored. Values match exactly; a value `<or> a <or> b` matches any of the alternatives (a subset of
 * Nova's extra_specs_ops).
 */
export const aggregateInstanceExtraSpecsFilter: HostFilter = {
  name: 'AggregateInstanceExtraSpecsFilter',
  summary: { one: 'has no aggregate matching the flavor', many: 'have no aggregate matching the flavor' },
  hostPasses(host, spec) {
    for (const [scopedKey, wanted] of Object.entries(spec.flavor.extraSpecs)) {
      const parts = scopedKey.split(':');
      if (parts.length > 1 && parts[0] !== SCOPE) continue;
      const key = parts.length > 1 ? parts.slice(1).join(':') : parts[0];
      const values = aggregateValues(host, key);
      if (values.length === 0) return reject(`no aggregate of the host sets "${key}" (flavor wants "${wanted}")`);
      if (!values.some((v) => matches(v, wanted))) {
        return reject(`aggregate metadata ${key}=${values.join('|')} does not match flavor "${wanted}"`);
      }
    }
    return PASS;
  },
};

function matches(actual: string, wanted: string): boolean {
  const trimmed = wanted.trim();
  if (trimmed.startsWith('<or>')) {
    return trimmed.split('<or>').map((s) => s.trim()).filter((s) => s !== '').includes(actual.trim());
  }
  return actual.trim() === trimmed;
}
