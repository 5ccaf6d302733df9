import { COMPOSE_SERVICE_ACCOUNTS, composeAccountPasswordVar, composeServiceAccounts } from './compose-secrets';

describe('compose service accounts', () => {
  it("gives each service its own admin user svc-<service> with its own password, as one .env line identity's SERVICE_ACCOUNTS parses", () => {
    const json = composeServiceAccounts((account) => `pw-of-${account}`);
    expect(json).not.toMatch(/[\n$]/);
    const accounts = JSON.parse(json) as { name: string; password: string; role: string }[];
    expect(accounts.map((a) => a.name)).toEqual(COMPOSE_SERVICE_ACCOUNTS.map((s) => `svc-${s}`));
    for (const a of accounts) expect(a).toEqual({ name: a.name, password: `pw-of-${a.name}`, role: 'admin' });
  });

  it('names each password variable after its account', () => {
    expect(composeAccountPasswordVar('svc-openstack-api')).toBe('MINICLOUD_ACCOUNT_PASSWORD_SVC_OPENSTACK_API');
    expect(composeAccountPasswordVar('svc-image')).toBe('MINICLOUD_ACCOUNT_PASSWORD_SVC_IMAGE');
  });
});
