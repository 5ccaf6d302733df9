import type { ImageRecord, ImageVisibility, MemberStatus } from './image-record';

/** Who is asking: the token's project and whether it holds the admin role. */
export interface Viewer {
  projectId: string;
  admin: boolean;
}

type Scoped = Pick<ImageRecord, 'visibility' | 'ownerProjectId'>;

/**
 * Whether `viewer` may see (get, download) an image, following Glance's visibility rules: admins
 * and the owner project always; public and community images everyone; a shared image every
 * project that is a member in any status (a pending member must see it to accept it); a private
 * image nobody else. Callers answer NOT_FOUND when this is false (as OpenStack does).
 * @param memberStatus the viewer's membership of the image, undefined when not a member
 */
export function canSeeImage(image: Scoped, viewer: Viewer, memberStatus: MemberStatus | undefined): boolean {
  if (viewer.admin || image.ownerProjectId === viewer.projectId) return true;
  switch (image.visibility) {
    case 'public':
    case 'community':
      return true;
    case 'shared':
      return memberStatus !== undefined;
    default:
      return false;
  }
}

/**
 * Whether an image appears in `viewer`'s image list (Glance's default list): admins see all; a
 * project sees its own, public ones, shared ones it has accepted, and community ones only when it
 * filters on visibility=community.
 * @param visibilityFilter the list's visibility filter, undefined when unfiltered
 */
export function isListedFor(
  image: Scoped,
  viewer: Viewer,
  memberStatus: MemberStatus | undefined,
  visibilityFilter: ImageVisibility | undefined,
): boolean {
  if (visibilityFilter !== undefined && image.visibility !== visibilityFilter) return false;
  if (viewer.admin || image.ownerProjectId === viewer.projectId) return true;
  switch (image.visibility) {
    case 'public':
      return true;
    case 'community':
      return visibilityFilter === 'community';
    case 'shared':
      return memberStatus === 'accepted';
    default:
      return false;
  }
}

/** Whether `viewer` may change or delete the image (its owner project or an admin). */
export function canModifyImage(image: Scoped, viewer: Viewer): boolean {
  return viewer.admin || image.ownerProjectId === viewer.projectId;
}
