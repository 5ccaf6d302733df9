import { canModifyImage, canSeeImage, isListedFor } from './image-access';
import type { ImageVisibility, MemberStatus } from './image-record';

const owner = { projectId: 'p-owner', admin: false };
const other = { projectId: 'p-other', admin: false };
const admin = { projectId: 'p-admin', admin: true };
const img = (visibility: ImageVisibility) => ({ visibility, ownerProjectId: 'p-owner' });

describe('canSeeImage', () => {
  it.each<[ImageVisibility, MemberStatus | undefined, boolean]>([
    ['private', undefined, false],
    ['private', 'accepted', false],
    ['public', undefined, true],
    ['community', undefined, true],
    ['shared', undefined, false],
    ['shared', 'pending', true],
    ['shared', 'rejected', true],
    ['shared', 'accepted', true],
  ])('another project, %s image, member %s -> %s', (v, m, expected) => {
    expect(canSeeImage(img(v), other, m)).toBe(expected);
  });
  it('owner and admin always see it', () => {
    expect(canSeeImage(img('private'), owner, undefined)).toBe(true);
    expect(canSeeImage(img('private'), admin, undefined)).toBe(true);
  });
});

describe('isListedFor', () => {
  it('lists shared images only once accepted, community only when filtered on it', () => {
    expect(isListedFor(img('shared'), other, 'pending', undefined)).toBe(false);
    expect(isListedFor(img('shared'), other, 'accepted', undefined)).toBe(true);
    expect(isListedFor(img('community'), other, undefined, undefined)).toBe(false);
    expect(isListedFor(img('community'), other, undefined, 'community')).toBe(true);
    expect(isListedFor(img('public'), other, undefined, undefined)).toBe(true);
    expect(isListedFor(img('private'), other, undefined, undefined)).toBe(false);
  });
  it('applies the visibility filter to everyone, admins included', () => {
    expect(isListedFor(img('private'), admin, undefined, undefined)).toBe(true);
    expect(isListedFor(img('private'), admin, undefined, 'public')).toBe(false);
    expect(isListedFor(img('private'), owner, undefined, 'private')).toBe(true);
  });
});

describe('canModifyImage', () => {
  it('allows the owner project and admins only', () => {
    expect(canModifyImage(img('public'), owner)).toBe(true);
    expect(canModifyImage(img('public'), admin)).toBe(true);
    expect(canModifyImage(img('public'), other)).toBe(false);
  });
});
