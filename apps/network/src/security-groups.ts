import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import {
  DEFAULT_SECURITY_GROUP_NAME,
  defaultSecurityGroupRules,
  newSecurityGroupRules,
  normaliseRemoteIpPrefix,
  ruleIdentity,
  validateSecurityGroupRule,
  type SecurityGroupRule,
} from '@minicloud/domain-network';
import type { NetworkQuotas } from './quotas';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from './records';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany } from './store/json';
import { keys } from './store/keys';

/** A group with its rules, as the API returns it. */
export interface SecurityGroupView extends SecurityGroupRecord {
  rules: SecurityGroupRuleRecord[];
}

/** Input of a rule; '' (and an absent port) means "not set" as on the wire. */
export interface RuleInput {
  securityGroupId: string;
  direction: string;
  ethertype: string;
  protocol: string;
  portRangeMin?: number;
  portRangeMax?: number;
  remoteIpPrefix: string;
  remoteGroupId: string;
  description: string;
}

/**
 * Security groups and rules (Neutron semantics, validated by domain-network). Every project gets a
 * "default" group the first time it needs one (allow all egress, ingress from the same group).
 */
export class SecurityGroups {
  constructor(
    private readonly d: StoreDeps,
    private readonly quotas?: NetworkQuotas,
  ) {}

  /**
   * The project's default group id, created on first use. Concurrent first uses agree: the group is
   * written first, then the pointer `sgdefault:<project>` is claimed with SET NX; a loser removes its group.
   */
  async ensureDefault(projectId: string): Promise<string> {
    const existing = await this.d.redis.get(keys.defaultSecurityGroup(projectId));
    if (existing) return existing;
    const group = await this.write(projectId, DEFAULT_SECURITY_GROUP_NAME, 'Default security group', (id) =>
      defaultSecurityGroupRules(id, this.d.newId).map((r) => toRecord(r, id, '')),
    );
    if ((await this.d.claim({ key: keys.defaultSecurityGroup(projectId), owner: group.id })) === 'claimed') return group.id;
    await this.remove(group.id, projectId);
    const winner = await this.d.redis.get(keys.defaultSecurityGroup(projectId));
    if (!winner) throw new FailedPreconditionError(`default security group of ${projectId} is being deleted; retry`);
    return winner;
  }

  /**
   * Creates a group with Neutron's default rules for a new group (all egress, IPv4 and IPv6). An
   * admin may create it in another project (`projectId`).
   * @throws InvalidArgumentError('name'); AlreadyExistsError('security_group') for the name
   *   "default" (Neutron's SecurityGroupDefaultAlreadyExists); PermissionDeniedError (project_id without admin)
   */
  async create(input: { name: string; description: string; projectId?: string }, caller: Caller): Promise<SecurityGroupView> {
    if (input.name === DEFAULT_SECURITY_GROUP_NAME) {
      throw new AlreadyExistsError('security_group', DEFAULT_SECURITY_GROUP_NAME);
    }
    if (input.projectId && input.projectId !== caller.projectId && !caller.isAdmin) {
      throw new PermissionDeniedError('setting project_id requires role admin');
    }
    const projectId = input.projectId || caller.projectId;
    await this.ensureDefault(projectId);
    await this.quotas?.assertRoom(projectId, 'security_groups');
    return this.write(projectId, input.name, input.description, (id) => newSecurityGroupRules(id, this.d.newId).map((r) => toRecord(r, id, '')));
  }

  /**
   * Renames a group or changes its description. The default group keeps its name (Neutron's
   * SecurityGroupCannotUpdateDefault) and no other group may take it.
   * @throws NotFoundError('security_group'); FailedPreconditionError('default_security_group_update');
   *   AlreadyExistsError('security_group') for a rename to "default"
   */
  async update(id: string, patch: { name?: string; description?: string }, caller: Caller): Promise<SecurityGroupView> {
    return retryCas(`security group ${id}`, async () => {
      const current = await this.get(id, caller);
      const { rules, ...record } = current;
      const isDefault = (await this.d.redis.get(keys.defaultSecurityGroup(record.projectId))) === id;
      if (patch.name !== undefined && patch.name !== record.name) {
        if (isDefault) throw new FailedPreconditionError('Updating default security group not allowed.', 'default_security_group_update');
        if (patch.name === DEFAULT_SECURITY_GROUP_NAME) throw new AlreadyExistsError('security_group', DEFAULT_SECURITY_GROUP_NAME);
      }
      const next: SecurityGroupRecord = { ...record, name: patch.name ?? record.name, description: patch.description ?? record.description };
      const expected = (await this.d.redis.get(keys.securityGroup(id))) ?? '';
      if (!expected) throw new NotFoundError('security_group', id);
      const res = await this.d.transact({ key: keys.securityGroup(id), expected, next: JSON.stringify(next), ops: [] });
      return res.ok ? { ...next, rules } : undefined;
    });
  }

  private async write(projectId: string, name: string, description: string, rules: (id: string) => SecurityGroupRuleRecord[]): Promise<SecurityGroupView> {
    const record: SecurityGroupRecord = { id: this.d.newId(), name, projectId, description, stateful: true, createdAtMs: this.d.nowMs() };
    const ruleRecords = rules(record.id);
    const multi = this.d.redis.multi();
    multi.set(keys.securityGroup(record.id), JSON.stringify(record));
    for (const r of ruleRecords) {
      multi.hset(keys.securityGroupRules(record.id), r.id, JSON.stringify(r));
      multi.set(keys.securityGroupRule(r.id), record.id);
    }
    multi.sadd(keys.securityGroups(), record.id);
    await multi.exec();
    return { ...record, rules: ruleRecords };
  }

  /**
   * A group of the caller's project (admin: any).
   * @throws InvalidArgumentError('security_group_id') when empty; NotFoundError('security_group')
   */
  async get(id: string, caller: Caller): Promise<SecurityGroupView> {
    if (!id) throw new InvalidArgumentError('security_group_id', 'is required');
    const group = (await readJson<SecurityGroupRecord>(this.d.redis, keys.securityGroup(id)))?.value;
    if (!group || (!caller.isAdmin && group.projectId !== caller.projectId)) throw new NotFoundError('security_group', id);
    return { ...group, rules: await this.rules(id) };
  }

  private async rules(id: string): Promise<SecurityGroupRuleRecord[]> {
    const raw = await this.d.redis.hvals(keys.securityGroupRules(id));
    return raw.map((r) => JSON.parse(r) as SecurityGroupRuleRecord).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** The caller's groups (its default group is created if missing); admin sees every group. */
  async list(caller: Caller): Promise<SecurityGroupView[]> {
    await this.ensureDefault(caller.projectId);
    const ids = await this.d.redis.smembers(keys.securityGroups());
    const groups = await readJsonMany<SecurityGroupRecord>(this.d.redis, ids.map(keys.securityGroup));
    const mine = groups.filter((g) => caller.isAdmin || g.projectId === caller.projectId);
    const out: SecurityGroupView[] = [];
    for (const g of mine.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1))) out.push({ ...g, rules: await this.rules(g.id) });
    return out;
  }

  /**
   * Checks that every id names a group the port's project may use.
   * @throws NotFoundError('security_group') naming the first unknown one
   */
  async assertUsable(ids: readonly string[], projectId: string, caller: Caller): Promise<void> {
    for (const id of ids) {
      const g = (await readJson<SecurityGroupRecord>(this.d.redis, keys.securityGroup(id)))?.value;
      if (!g || (!caller.isAdmin && g.projectId !== projectId)) throw new NotFoundError('security_group', id);
    }
  }

  /**
   * Deletes a group that no port uses. The default group may be deleted by an admin only (Neutron's
   * SecurityGroupCannotRemoveDefault, a conflict, for project members).
   * @throws NotFoundError; FailedPreconditionError('default_security_group' | 'security_group_in_use')
   */
  async delete(id: string, caller: Caller): Promise<void> {
    const group = await this.get(id, caller);
    const isDefault = (await this.d.redis.get(keys.defaultSecurityGroup(group.projectId))) === id;
    if (isDefault && !caller.isAdmin) throw new FailedPreconditionError('Removing default security group not allowed.', 'default_security_group');
    await this.remove(id, group.projectId);
  }

  private async remove(id: string, projectId: string): Promise<void> {
    const ruleIds = await this.d.redis.hkeys(keys.securityGroupRules(id));
    const res = await this.d.transact({
      key: keys.securityGroup(id),
      expected: await this.d.redis.get(keys.securityGroup(id)) ?? '',
      next: '',
      guards: [{ kind: 'empty', key: keys.securityGroupPorts(id) }],
      ops: [
        { kind: 'del', key: keys.securityGroupRules(id) },
        ...ruleIds.map((r) => ({ kind: 'del' as const, key: keys.securityGroupRule(r) })),
        { kind: 'srem', key: keys.securityGroups(), a1: id },
        { kind: 'delifeq', key: keys.defaultSecurityGroup(projectId), a1: id },
      ],
    });
    if (!res.ok) {
      if (!res.conflict) throw new FailedPreconditionError(`security group ${id} is in use by ports`, 'security_group_in_use');
      throw new FailedPreconditionError(`security group ${id} changed while being deleted; retry`, 'concurrent_update');
    }
  }

  /**
   * Adds a rule to a group of the caller's project, validated by domain-network; the remote prefix
   * is stored in its canonical form, the protocol in lower case.
   * @throws InvalidArgumentError naming the field ('security_group_id', 'direction', 'protocol',
   *   'port_range_min', 'remote_ip_prefix', ...); NotFoundError('security_group') for the group or
   *   the remote group; AlreadyExistsError('security_group_rule') naming the rule it duplicates
   *   (Neutron's SecurityGroupRuleExists)
   */
  async createRule(input: RuleInput, caller: Caller): Promise<SecurityGroupRuleRecord> {
    if (!input.securityGroupId) throw new InvalidArgumentError('security_group_id', 'is required');
    const group = await this.get(input.securityGroupId, caller);
    if (input.remoteGroupId) await this.get(input.remoteGroupId, caller).catch(() => { throw new NotFoundError('security_group', input.remoteGroupId); });
    const protocol = input.protocol === '' || input.protocol.toLowerCase() === 'any' ? null : input.protocol.toLowerCase();
    const ethertype = input.ethertype || 'IPv4';
    const rule = {
      id: this.d.newId(),
      securityGroupId: input.securityGroupId,
      direction: input.direction,
      ethertype,
      protocol,
      portRangeMin: input.portRangeMin ?? null,
      portRangeMax: input.portRangeMax ?? null,
      remoteIpPrefix: input.remoteIpPrefix || null,
      remoteGroupId: input.remoteGroupId || null,
    } as SecurityGroupRule;
    validateSecurityGroupRule(rule);
    const canonical = { ...rule, remoteIpPrefix: rule.remoteIpPrefix === null ? null : normaliseRemoteIpPrefix(rule.remoteIpPrefix, rule.ethertype) };
    const identity = ruleIdentity(canonical);
    const duplicate = group.rules.find((r) => ruleIdentity(r as SecurityGroupRule) === identity);
    if (duplicate) throw new AlreadyExistsError('security_group_rule', duplicate.id);
    await this.quotas?.assertRoom(group.projectId, 'security_group_rules');
    const record = toRecord(canonical, input.securityGroupId, input.description);
    const res = await this.d.transact({
      key: keys.securityGroupRule(record.id),
      expected: '',
      next: input.securityGroupId,
      guards: [{ kind: 'exists', key: keys.securityGroup(input.securityGroupId) }],
      ops: [{ kind: 'hset', key: keys.securityGroupRules(input.securityGroupId), a1: record.id, a2: JSON.stringify(record) }],
    });
    if (!res.ok) throw new NotFoundError('security_group', input.securityGroupId);
    return record;
  }

  /** @throws InvalidArgumentError('rule_id'); NotFoundError('security_group_rule') */
  async deleteRule(ruleId: string, caller: Caller): Promise<void> {
    if (!ruleId) throw new InvalidArgumentError('rule_id', 'is required');
    const groupId = await this.d.redis.get(keys.securityGroupRule(ruleId));
    if (!groupId) throw new NotFoundError('security_group_rule', ruleId);
    await this.get(groupId, caller).catch(() => { throw new NotFoundError('security_group_rule', ruleId); });
    await this.d.transact({
      key: keys.securityGroupRule(ruleId),
      expected: groupId,
      next: '',
      ops: [{ kind: 'hdel', key: keys.securityGroupRules(groupId), a1: ruleId }],
    });
  }
}

function toRecord(r: SecurityGroupRule, groupId: string, description: string): SecurityGroupRuleRecord {
  return {
    id: r.id,
    securityGroupId: groupId,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    portRangeMin: r.portRangeMin,
    portRangeMax: r.portRangeMax,
    remoteIpPrefix: r.remoteIpPrefix,
    remoteGroupId: r.remoteGroupId,
    description,
  };
}
