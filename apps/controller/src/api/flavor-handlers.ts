import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { FlavorRecord } from '@minicloud/domain-compute';
import type { compute } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { ServiceHandlers } from '@minicloud/platform-grpc';
import { flavorToProto } from '../proto-states';
import type { FlavorStore } from '../store/flavor-store';
import type { ApiDeps } from './api-deps';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/**
 * The flavor `ref` (id or name) if the caller may see and use it: a public flavor, any flavor for an
 * admin, a private one only for the projects granted it (Nova's flavor access); undefined otherwise,
 * so another project's private flavor looks absent, as in Nova.
 */
export async function findVisibleFlavor(flavors: FlavorStore, ref: string, auth: AuthContext | undefined): Promise<FlavorRecord | undefined> {
  const flavor = await flavors.find(ref);
  if (!flavor) return undefined;
  if (flavor.isPublic || isCloudAdmin(auth)) return flavor;
  return (await flavors.hasAccess(flavor.id, auth?.projectId ?? '')) ? flavor : undefined;
}

/**
 * Flavor handlers (Nova's flavors, extra specs and flavor access APIs; writes and access lists are
 * admin by the policy table). Listing follows Nova: non-admins see the public flavors and the private
 * ones granted to their project, whatever `is_public` says; admins filter with `is_public`.
 */
export function flavorHandlers(
  d: Pick<ApiDeps, 'flavors'>,
): Pick<Handlers, 'createFlavor' | 'getFlavor' | 'listFlavors' | 'deleteFlavor' | 'setFlavorExtraSpecs' | 'listFlavorAccess' | 'addFlavorAccess' | 'removeFlavorAccess'> {
  return {
    async createFlavor(req) {
      const flavor = await d.flavors.create({
        id: req.id,
        name: req.name,
        vcpus: req.vcpus,
        ramMb: req.ramMb,
        diskGb: req.diskGb,
        ephemeralGb: req.ephemeralGb,
        swapMb: req.swapMb,
        rxtxFactor: req.rxtxFactor,
        isPublic: req.isPublic ?? true,
        extraSpecs: req.extraSpecs,
      });
      return { flavor: flavorToProto(flavor) };
    },
    async getFlavor(req, ctx) {
      if (!req.flavorRef) throw new InvalidArgumentError('flavor_ref', 'is required');
      const flavor = await findVisibleFlavor(d.flavors, req.flavorRef, ctx.auth);
      if (!flavor) throw new NotFoundError('flavor', req.flavorRef);
      return { flavor: flavorToProto(flavor) };
    },
    async listFlavors(req, ctx) {
      const all = await d.flavors.list();
      const projectId = ctx.auth?.projectId ?? '';
      const granted = await d.flavors.grantedAmong(
        all.filter((f) => !f.isPublic).map((f) => f.id),
        projectId,
      );
      const admin = isCloudAdmin(ctx.auth);
      const wanted = admin ? req.isPublic : true;
      const shown = all.filter((f) => {
        if (wanted === true) return f.isPublic || granted.has(f.id);
        if (wanted === false) return !f.isPublic;
        return f.isPublic || admin || granted.has(f.id);
      });
      return { flavors: shown.map(flavorToProto) };
    },
    async deleteFlavor(req) {
      await d.flavors.delete(req.flavorId);
      return {};
    },
    async setFlavorExtraSpecs(req) {
      return { flavor: flavorToProto(await d.flavors.setExtraSpecs(req.flavorId, req.extraSpecs, req.unset)) };
    },
    // Nova: a public flavor has no access list (404), as everyone may use it.
    async listFlavorAccess(req) {
      const flavor = await d.flavors.get(req.flavorId);
      if (flavor.isPublic) throw new NotFoundError('flavor access', flavor.id, 'access lists exist for private flavors only');
      return { projectIds: await d.flavors.accessList(flavor.id) };
    },
    async addFlavorAccess(req) {
      return { projectIds: await d.flavors.addAccess(req.flavorId, req.projectId) };
    },
    async removeFlavorAccess(req) {
      return { projectIds: await d.flavors.removeAccess(req.flavorId, req.projectId) };
    },
  };
}
