import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { DEFAULT_SECURITY_GROUP_NAME, defaultSecurityGroupRules, validateSecurityGroupRule, type SecurityGroupRule } from '@minicloud/domain-network';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from './records';
import type { Caller, StoreDeps } from './store/deps';
import { readJson, readJsonMany } from './store/json';
import { keys } from './store/keys';

/** A group with its rules, as the API returns it. */
export interface SecurityGroupView extends SecurityGroupRecord {
  rules: SecurityGroupRuleRecord[];
}

/** Input of a rule; '' / 0 mean "not set" as on the wire. */
export interface RuleInput {
  securityGroupId: string;
  direction: string;
  ethertype: string;
  protocol: string;
  portRangeMin: number;
  portRangeMax: number;
  remoteIpPrefix: string;
  remoteGroupId: string;
  description: string;
}

/**
 * Security groups and rules (Neutron semantics, validated by domain-network). Every project gets a
 * "default" group the first time it needs one (allow all egress, ingress from the same group).
 */
export class SecurityGroups {
  constructor(private readonly d: StoreDeps) {}

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

  /** Creates a group with Neutron's two default egress rules (IPv4 allow-all egress). */
  async create(input: { name: string; description: string }, caller: Caller): Promise<SecurityGroupView> {
    if (!input.name) throw new InvalidArgumentError('name', 'is required');
    if (input.name === DEFAULT_SECURITY_GROUP_NAME) {
      throw new InvalidArgumentError('name', `"${DEFAULT_SECURITY_GROUP_NAME}" is reserved for the project's default group`);
    }
    await this.ensureDefault(caller.projectId);
    const group = await this.write(caller.projectId, input.name, input.description, (id) => [
      toRecord({ id: this.d.newId(), direction: 'egress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null, remoteGroupId: null }, id, ''),
    ]);
    return group;
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
   * Deletes a group that no port uses. The default group may be deleted by an admin only (Neutron
   * forbids it to project members).
   * @throws NotFoundError; PermissionDeniedError (default group); FailedPreconditionError('security_group_in_use')
   */
  async delete(id: string, caller: Caller): Promise<void> {
    const group = await this.get(id, caller);
    const isDefault = (await this.d.redis.get(keys.defaultSecurityGroup(group.projectId))) === id;
    if (isDefault && !caller.isAdmin) throw new PermissionDeniedError('the default security group can only be deleted by an admin');
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
   * Adds a rule to a group of the caller's project, validated by domain-network.
   * @throws InvalidArgumentError naming the field ('rule.security_group_id', 'direction', 'protocol',
   *   'port_range_min', 'remote_ip_prefix', ...); NotFoundError('security_group')
   */
  async createRule(input: RuleInput, caller: Caller): Promise<SecurityGroupRuleRecord> {
    if (!input.securityGroupId) throw new InvalidArgumentError('security_group_id', 'is required');
    await this.get(input.securityGroupId, caller);
    if (input.remoteGroupId) await this.get(input.remoteGroupId, caller).catch(() => { throw new NotFoundError('security_group', input.remoteGroupId); });
    const protocol = input.protocol === '' ? null : input.protocol;
    // 0/0 on the wire means "no range"; icmp uses min/max as type/code.
    const hasRange = protocol !== null && (input.portRangeMin !== 0 || input.portRangeMax !== 0);
    const rule = {
      id: this.d.newId(),
      securityGroupId: input.securityGroupId,
      direction: input.direction,
      ethertype: input.ethertype || 'IPv4',
      protocol,
      portRangeMin: hasRange ? input.portRangeMin : null,
      portRangeMax: hasRange ? input.portRangeMax : null,
      remoteIpPrefix: input.remoteIpPrefix || null,
      remoteGroupId: input.remoteGroupId || null,
    } as SecurityGroupRule;
    validateSecurityGroupRule(rule);
    const record = toRecord(rule, input.securityGroupId, input.description);
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
