import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import { isAdmin } from '@minicloud/platform-auth';
import type { ServiceHandlers } from '@minicloud/platform-grpc';
import { flavorToProto } from '../proto-states';
import type { ApiDeps } from './api-deps';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/** Flavor handlers (Nova's flavors API; create/delete/extra specs are admin by the policy table). */
export function flavorHandlers(d: Pick<ApiDeps, 'flavors'>): Pick<Handlers, 'createFlavor' | 'getFlavor' | 'listFlavors' | 'deleteFlavor' | 'setFlavorExtraSpecs'> {
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
        isPublic: req.isPublic ?? true,
        extraSpecs: req.extraSpecs,
      });
      return { flavor: flavorToProto(flavor) };
    },
    // Private flavors (is_public=false) are admin-only, as Nova's flavor access without an access list.
    async getFlavor(req, ctx) {
      if (!req.flavorRef) throw new InvalidArgumentError('flavor_ref', 'is required');
      const flavor = await d.flavors.get(req.flavorRef);
      if (!flavor.isPublic && !isAdmin(ctx.auth)) throw new NotFoundError('flavor', req.flavorRef);
      return { flavor: flavorToProto(flavor) };
    },
    async listFlavors(_req, ctx) {
      return { flavors: (await d.flavors.list()).filter((f) => f.isPublic || isAdmin(ctx.auth)).map(flavorToProto) };
    },
    async deleteFlavor(req) {
      await d.flavors.delete(req.flavorId);
      return {};
    },
    async setFlavorExtraSpecs(req) {
      return { flavor: flavorToProto(await d.flavors.setExtraSpecs(req.flavorId, req.extraSpecs, req.unset)) };
    },
  };
}
