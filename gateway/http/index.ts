// Public face of gateway/http/: the OpenAI-compatible HTTP surface (fastify) beside gRPC (issue #10).
export { createHttpServer } from './create-http-server';
export type { CreateHttpServerOptions, HttpServer } from './create-http-server';
export { contextOf, DEADLINE_HEADER } from './http-call-context';
export type { HttpCallContext, HttpDeadlines } from './http-call-context';
export type { HttpRouteTools } from './http-route-tools';
export type { HttpTeeModel, HttpTeeRouter, HttpTeeStreamEvent } from './http-tee-router';
export { createIdempotencyStore } from './idempotency-store';
export type { IdempotencyClaim, IdempotencyStore, StoredAnswer } from './idempotency-store';
export { answerOnce, IDEMPOTENCY_HEADER } from './answer-once';
export type { AnswerWriter, SseStream } from './answer-writer';
export { SEALED_CONTENT_TYPE } from './register-tee-routes';
export { registerFheRoutes } from './register-fhe-routes';
export type { RegisterFheRoutesDependencies } from './register-fhe-routes';
