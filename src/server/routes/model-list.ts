import type { Principal } from '../../security/principal.js';
import { policyAllows } from '../../security/key-policy.js';
import type { Runtime } from '../runtime.js';

/** One listed model: what the client may send, its provider and the name it goes upstream as. */
export interface ListedModel {
  readonly id: string;
  readonly provider: string;
  readonly upstreamModel: string;
}

/**
 * The models a request's key may use, for every model list (`GET /v1/models` in both shapes,
 * `GET /v1beta/models`): the router's list, narrowed by the key's `models` / `providers` scope with
 * the same test the routes apply (policyAllows), so a listed model is never refused with 403 and a
 * refused one is never listed. An unscoped key gets the router's list as it is.
 */
export function modelsFor(runtime: Runtime, principal: Principal | undefined): ListedModel[] {
  const models = runtime.router.list();
  if (principal === undefined || !principal.policy.scoped) return models;
  const { policy } = principal;
  return models.filter((model) => policyAllows(policy, model.provider, model.id, model.upstreamModel));
}
