import type { FastifyRequest } from 'fastify';
import type { RpcScope } from '../auth';
import type { HttpCallContext } from './http-call-context';

/** What every route module gets from the server builder (also what `registerFheRoutes` is given). */
export type HttpRouteTools = {
  /** The request's one call context (request id, principal, peer, deadline, cancellation). */
  contextOf(request: FastifyRequest): HttpCallContext;
  /**
   * Checks the caller's API key may use this mode and model (no-op when auth is off). Authentication itself already
   * ran for every /v1 route before the route was reached.
   * @param modelParam where this request named the model (the error's `param`): `model` (body or query) by default
   * @throws VeilError `permission_denied`
   */
  authorize(request: FastifyRequest, scope: RpcScope, modelParam?: string): void;
};
