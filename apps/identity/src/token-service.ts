import { CompactSign, importJWK, type KeyLike } from 'jose';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { COMPUTE_AGENT_ROLE, INSTANCE_ROLE, TOKEN_ALG, createTokenVerifier, isCloudAdmin, signToken, type AuthContext, type RevocationList, type TokenVerifier } from '@minicloud/platform-auth';
import type { AppCredentialStore } from './app-credential-store';
import type { DirectoryStore, ProjectRecord, UserRecord } from './directory-store';
import type { LockoutStore } from './lockout-store';
import { dummySecretHash, needsRehash, verifySecret } from './password-hash';
import type { RevocationStore } from './revocation-store';
import type { SigningKeyStore } from './signing-key-store';

/** Why an authentication failed (metric label `outcome`, audit `reason`). */
export type AuthOutcome = 'success' | 'invalid_credentials' | 'user_disabled' | 'no_role' | 'bad_request' | 'credential_expired' | 'locked_out';

/** Authentication failure carrying its outcome label. */
export class AuthFailure extends UnauthenticatedError {
  constructor(readonly outcome: AuthOutcome, message: string, readonly userId = '') {
    super(message);
  }
}

export interface AuthRequest {
  /** The user by name in a domain (by name or id), or by `userId`. */
  password?: { userName: string; password: string; domainName: string; userId?: string; domainId?: string };
  applicationCredential?: { id: string; secret: string };
  /** Keystone's token method: a valid token, re-scoped to the requested project (default: its own). */
  token?: { token: string };
  projectName: string;
  projectId: string;
  projectDomainName: string;
  projectDomainId?: string;
  /** Keystone's explicit `"scope": "unscoped"`. */
  unscoped?: boolean;
  /** Keystone's system scope (`"scope": {"system": {"all": true}}`): "all", or empty for none. */
  systemScope?: string;
}

/**
 * The cloud's designated admin project (keystone.conf `[resource] admin_project_name` and
 * `admin_project_domain_name`): a token scoped to it carries `is_admin_project`, and its role admin
 * is cloud-wide (`isCloudAdmin`). `domainName` also matches the domain's id.
 */
export interface AdminProjectRef {
  name: string;
  domainName: string;
}

export interface IssuedToken {
  token: string;
  context: AuthContext;
}

/** The document signed for an instance (EC2/OpenStack metadata "instance identity document"). */
export interface InstanceDocument {
  instanceId: string;
  projectId: string;
  hostId: string;
  availabilityZone: string;
  imageId: string;
  flavorName: string;
  issuedAtMs: number;
}

/** The admin project the bootstrap seeds (project `admin` in domain `Default`). */
export const DEFAULT_ADMIN_PROJECT: AdminProjectRef = { name: 'admin', domainName: 'Default' };

/**
 * Tokens: Keystone's password and application-credential authentication, validation with identity's
 * own keys and durable revocations, and instance credentials.
 */
export class TokenService {
  readonly verifier: TokenVerifier;

  constructor(
    private readonly dir: DirectoryStore,
    private readonly appCreds: AppCredentialStore,
    private readonly keys: SigningKeyStore,
    private readonly revocations: RevocationStore,
    list: RevocationList,
    private readonly opts: { tokenTtlSeconds: number; nowMs: () => number; lockout?: LockoutStore; adminProject?: AdminProjectRef },
  ) {
    const base = createTokenVerifier({
      keys: async () => (await keys.verifyingKeys()).map((k) => ({ kid: k.kid, jwk: k.publicJwk, notAfterMs: k.notAfterMs })),
      revocations: list,
      nowMs: opts.nowMs,
      // keys come from local Redis: refetch on every unknown kid so a rotation on another replica is seen at once
      minRefetchIntervalMs: 0,
    });
    this.verifier = {
      verify: async (token) => {
        const ctx = await base.verify(token);
        if (await revocations.isRevoked(ctx)) throw new UnauthenticatedError('token revoked');
        return ctx;
      },
    };
  }

  /**
   * Authenticates and issues a project-scoped token.
   * A password login that succeeds with a hash of older parameters rehashes it (argon2id). After
   * the lockout policy's failures in a row, the name is refused (before any hashing) until the
   * lockout duration has passed since the last failure.
   * @throws InvalidArgumentError('method'|'project_name'), AuthFailure (UNAUTHENTICATED) "invalid credentials"
   *   for an unknown user or wrong password alike, "account locked" (outcome locked_out), "user
   *   disabled", or no role on the project
   */
  async authenticate(req: AuthRequest): Promise<IssuedToken & { user: UserRecord; project?: ProjectRecord }> {
    if (req.applicationCredential?.id) return this.authenticateAppCredential(req.applicationCredential);
    if (req.token) return this.authenticateToken(req.token.token, req);
    if (!req.password) throw new InvalidArgumentError('method', 'password, token or application_credential is required');
    const { userName, password, userId } = req.password;
    if (!userName && !userId) throw new InvalidArgumentError('password.user_name', 'is required (or password.user_id)');
    const user = userId ? await this.dir.getUser(userId) : await this.userByName(userName, req.password.domainId, req.password.domainName);
    // One count per user however it is named (by id or by name in its domain); a name that matches
    // no user is counted under that name, so guessing at unknown names is limited too.
    const domainId = user?.domainId ?? '';
    const lockName = user?.name ?? (userName || userId || '');
    const lockout = this.opts.lockout;
    if (lockout && !(await lockout.tryAttempt(domainId, lockName))) throw new AuthFailure('locked_out', 'account locked after too many failed logins; try again later');
    const ok = await verifySecret(password, user ? user.passwordHash : await dummySecretHash());
    if (!user || !ok) throw new AuthFailure('invalid_credentials', 'invalid credentials', user?.id);
    await lockout?.reset(domainId, lockName);
    if (!user.enabled || !(await this.dir.getDomain(user.domainId))?.enabled) throw new AuthFailure('user_disabled', 'user disabled', user.id);
    if (needsRehash(user.passwordHash)) await this.dir.updateUser(user.id, { password });
    if (this.wantsSystem(req)) return { ...(await this.issueSystem(user)), user };
    if (this.isUnscoped(user, req)) return { ...(await this.issue(user, undefined, [])), user };
    const project = await this.scope(user, req);
    const roles = await this.dir.effectiveRoles(user.id, project.id);
    if (!roles.length) throw new AuthFailure('no_role', `user has no role on project ${project.name}`, user.id);
    return { ...(await this.issue(user, project, roles)), user, project };
  }

  /**
   * Checks a user's current password under the same lockout as logins (Keystone's self-service
   * password change proves who you are with the original password, not a token).
   * @throws AuthFailure "invalid credentials" for an unknown user or a wrong password alike, locked_out
   */
  async checkPassword(userId: string, password: string): Promise<UserRecord> {
    const user = await this.dir.getUser(userId);
    const lockout = this.opts.lockout;
    const lockName = user?.name ?? userId;
    if (lockout && !(await lockout.tryAttempt(user?.domainId ?? '', lockName))) throw new AuthFailure('locked_out', 'account locked after too many failed logins; try again later');
    const ok = await verifySecret(password, user ? user.passwordHash : await dummySecretHash());
    if (!user || !ok) throw new AuthFailure('invalid_credentials', 'invalid credentials', user?.id);
    await lockout?.reset(user.domainId, lockName);
    return user;
  }

  private async userByName(name: string, domainId?: string, domainName?: string): Promise<UserRecord | undefined> {
    const domain = domainId ? await this.dir.getDomain(domainId) : await this.dir.domainByName(domainName || 'default');
    return domain && (await this.dir.userByName(domain.id, name));
  }

  /**
   * Keystone's token method: the presented token (valid, not revoked) buys a token of the same user
   * scoped to the requested project (default: the presented token's), expiring no later than it.
   * Instance credentials cannot be exchanged.
   */
  private async authenticateToken(token: string, req: AuthRequest): Promise<IssuedToken & { user: UserRecord; project?: ProjectRecord }> {
    const presented = await this.verifier.verify(token).catch(() => {
      throw new AuthFailure('invalid_credentials', 'invalid credentials');
    });
    if (presented.instanceId) throw new AuthFailure('invalid_credentials', 'an instance credential cannot be exchanged for a token', presented.userId);
    const user = await this.dir.getUser(presented.userId);
    if (!user) throw new AuthFailure('invalid_credentials', 'invalid credentials');
    if (!user.enabled) throw new AuthFailure('user_disabled', 'user disabled', user.id);
    const remainingSeconds = Math.floor((presented.expiresAtMs - this.opts.nowMs()) / 1000);
    if (remainingSeconds < 1) throw new AuthFailure('invalid_credentials', 'invalid credentials', user.id);
    const ttlSeconds = Math.min(this.opts.tokenTtlSeconds, remainingSeconds);
    const named = !!(req.projectId || req.projectName);
    // a system scope asked for, or none asked for on a system-scoped token: the system scope
    if (this.wantsSystem(req) || (!named && !req.unscoped && presented.systemScope === 'all')) return { ...(await this.issueSystem(user, ttlSeconds)), user };
    // no scope asked for: the presented token's scope, unscoped included
    if (req.unscoped || (!named && !presented.projectId)) return { ...(await this.issue(user, undefined, [], ttlSeconds)), user };
    const scoped = named ? req : { ...req, projectId: presented.projectId };
    const project = await this.scope(user, scoped);
    const roles = await this.dir.effectiveRoles(user.id, project.id);
    if (!roles.length) throw new AuthFailure('no_role', `user has no role on project ${project.name}`, user.id);
    return { ...(await this.issue(user, project, roles, ttlSeconds)), user, project };
  }

  /**
   * Whether the request asks for the system scope.
   * @throws InvalidArgumentError('system_scope') for another system than "all", or together with a project or unscoped
   */
  private wantsSystem(req: AuthRequest): boolean {
    if (!req.systemScope) return false;
    if (req.systemScope !== 'all') throw new InvalidArgumentError('system_scope', `must be "all" (the only system scope), got "${req.systemScope}"`);
    if (req.projectId || req.projectName || req.unscoped) throw new InvalidArgumentError('system_scope', 'a token has one scope: system or a project, not both');
    return true;
  }

  /** A system-scoped token of `user` with its system roles. @throws AuthFailure(no_role) when it holds none */
  private async issueSystem(user: UserRecord, ttlSeconds = this.opts.tokenTtlSeconds): Promise<IssuedToken> {
    const roles = await this.dir.effectiveSystemRoles(user.id);
    if (!roles.length) throw new AuthFailure('no_role', 'user has no role on the system', user.id);
    return this.issue(user, undefined, roles, ttlSeconds, '', 'all');
  }

  /** Whether `project` is the cloud's designated admin project ({@link AdminProjectRef}). */
  private async isAdminProject(project: ProjectRecord | undefined): Promise<boolean> {
    const ref = this.opts.adminProject ?? DEFAULT_ADMIN_PROJECT;
    if (!project || !ref || project.name !== ref.name) return false;
    if (project.domainId === ref.domainName) return true;
    return (await this.dir.getDomain(project.domainId))?.name === ref.domainName;
  }

  /** Keystone's unscoped token: asked for, or no project named and no default project to fall back on. */
  private isUnscoped(user: UserRecord, req: AuthRequest): boolean {
    return !!req.unscoped || (!req.projectId && !req.projectName && !user.defaultProjectId);
  }

  /** The scope project, which must be enabled (Keystone refuses a token for a disabled project). */
  private async scope(user: UserRecord, req: AuthRequest): Promise<ProjectRecord> {
    const p = await this.scopeProject(user, req);
    if (!p.enabled) throw new AuthFailure('no_role', `project ${p.name} is disabled`, user.id);
    return p;
  }

  private async scopeProject(user: UserRecord, req: AuthRequest): Promise<ProjectRecord> {
    if (req.projectId) {
      const p = await this.dir.getProject(req.projectId);
      if (!p) throw new AuthFailure('no_role', `user has no role on project ${req.projectId}`, user.id);
      return p;
    }
    if (req.projectName) {
      const domain = req.projectDomainId ? await this.dir.getDomain(req.projectDomainId) : await this.dir.domainByName(req.projectDomainName || 'default');
      const p = domain && (await this.dir.projectByName(domain.id, req.projectName));
      if (!p) throw new AuthFailure('no_role', `user has no role on project ${req.projectName}`, user.id);
      return p;
    }
    const p = user.defaultProjectId ? await this.dir.getProject(user.defaultProjectId) : undefined;
    if (!p) throw new InvalidArgumentError('project_name', 'no project scope given and the user has no default project');
    return p;
  }

  private async authenticateAppCredential(c: { id: string; secret: string }): Promise<IssuedToken & { user: UserRecord; project: ProjectRecord }> {
    const cred = await this.appCreds.get(c.id);
    const ok = await verifySecret(c.secret, cred ? cred.secretHash : await dummySecretHash());
    if (!cred || !ok) throw new AuthFailure('invalid_credentials', 'invalid credentials');
    if (cred.expiresAtMs && cred.expiresAtMs <= this.opts.nowMs()) throw new AuthFailure('credential_expired', 'application credential expired', cred.userId);
    const user = await this.dir.getUser(cred.userId);
    if (!user) throw new AuthFailure('invalid_credentials', 'invalid credentials');
    if (!user.enabled) throw new AuthFailure('user_disabled', 'user disabled', user.id);
    const project = await this.dir.getProject(cred.projectId);
    const current = project ? await this.dir.effectiveRoles(user.id, project.id) : [];
    // Keystone: the credential stops working when its creator lost one of its roles
    if (!project || !cred.roles.length || cred.roles.some((r) => !current.includes(r))) {
      throw new AuthFailure('no_role', 'application credential roles are no longer held by its user', user.id);
    }
    return { ...(await this.issue(user, project, cred.roles, this.opts.tokenTtlSeconds, cred.id)), user, project };
  }

  /**
   * Signs a token of `user` scoped to `project` (undefined: unscoped, in the user's domain, with no
   * roles), or to the system (`systemScope` "all", no project).
   */
  private async issue(user: UserRecord, project: ProjectRecord | undefined, roles: string[], ttlSeconds = this.opts.tokenTtlSeconds, applicationCredentialId = '', systemScope?: 'all'): Promise<IssuedToken> {
    const key = await this.keys.ensureActive();
    const isAdminProject = await this.isAdminProject(project);
    return signToken(
      key,
      {
        userId: user.id,
        userName: user.name,
        projectId: project?.id ?? '',
        projectName: project?.name ?? '',
        domainId: project?.domainId ?? user.domainId,
        roles,
        ...(applicationCredentialId ? { applicationCredentialId } : {}),
        // A compute agent's hosts travel with its tokens, so every service checks them locally.
        ...(user.hostIds.length && roles.includes(COMPUTE_AGENT_ROLE) ? { hostIds: user.hostIds } : {}),
        ...(systemScope ? { systemScope } : {}),
        ...(isAdminProject ? { isAdminProject } : {}),
      },
      { nowMs: this.opts.nowMs(), ttlSeconds },
    );
  }

  /** @throws UnauthenticatedError for a malformed, badly signed, expired or revoked token */
  validate(token: string): Promise<AuthContext> {
    return this.verifier.verify(token);
  }

  /**
   * Revokes one token: the caller's own (empty `token`), or another's (its own user, or any as admin).
   * @returns the revoked token's context
   * @throws UnauthenticatedError for an invalid token, PermissionDeniedError for another user's token as non-admin
   */
  async revoke(caller: AuthContext, token: string): Promise<AuthContext> {
    const target = token ? await this.verifier.verify(token) : caller;
    if (target.userId !== caller.userId && !isCloudAdmin(caller)) throw new PermissionDeniedError("only an admin may revoke another user's token");
    await this.revocations.revokeToken(target.tokenId, target.expiresAtMs);
    return target;
  }

  /**
   * Issues a short-lived token for software inside an instance (user `instance:<id>`, claim
   * instance_id, the one role {@link INSTANCE_ROLE}: it reads its own server and nothing else of its
   * project, and changes nothing) and an identity document signed (detached JWS, EdDSA) with the active key.
   * @param ttlSeconds 0 -> 900, capped at the token TTL
   * @throws InvalidArgumentError('instance_id'|'ttl_seconds'), NotFoundError('project')
   */
  async issueInstanceCredential(instanceId: string, projectId: string, ttlSeconds: number): Promise<{ token: string; document: InstanceDocument & { signature: string } }> {
    if (!instanceId) throw new InvalidArgumentError('instance_id', 'is required');
    if (ttlSeconds < 0) throw new InvalidArgumentError('ttl_seconds', 'must be >= 0');
    const project = await this.dir.getProject(projectId);
    if (!project) throw new NotFoundError('project', projectId);
    const ttl = Math.min(ttlSeconds || 900, this.opts.tokenTtlSeconds);
    const key = await this.keys.ensureActive();
    const { token, context } = await signToken(
      key,
      { userId: `instance:${instanceId}`, userName: `instance-${instanceId}`, projectId, projectName: project.name, domainId: project.domainId, roles: [INSTANCE_ROLE], instanceId },
      { nowMs: this.opts.nowMs(), ttlSeconds: ttl },
    );
    const doc: InstanceDocument = { instanceId, projectId, hostId: '', availabilityZone: '', imageId: '', flavorName: '', issuedAtMs: context.issuedAtMs };
    const jws = await new CompactSign(Buffer.from(instanceDocumentPayload(doc)))
      .setProtectedHeader({ alg: TOKEN_ALG, kid: key.kid })
      .sign((await importJWK(key.privateJwk, TOKEN_ALG)) as KeyLike);
    const [h, , s] = jws.split('.');
    return { token, document: { ...doc, signature: `${h}..${s}` } };
  }
}

/**
 * The bytes a document's detached JWS signs: JSON with snake_case keys in this fixed order and
 * issued_at in ms. A verifier rebuilds them, puts them base64url between the signature's two dots, and
 * checks the compact JWS with GetPublicKeys' key of that kid.
 */
export function instanceDocumentPayload(d: InstanceDocument): string {
  return JSON.stringify({
    instance_id: d.instanceId,
    project_id: d.projectId,
    host_id: d.hostId,
    availability_zone: d.availabilityZone,
    image_id: d.imageId,
    flavor_name: d.flavorName,
    issued_at_ms: d.issuedAtMs,
  });
}
