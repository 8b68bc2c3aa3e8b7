import type { HttpHandler } from '@azure/functions';
import { managementRoute } from '../../shared/http/management-route.js';
import { json } from '../../shared/http/responses.js';
import { services } from '../../shared/services.js';

export const managementTokenKeysRotate: HttpHandler = managementRoute({
  POST: async () => json(200, { kid: await services().identities.rotateSigningKey() }),
});
