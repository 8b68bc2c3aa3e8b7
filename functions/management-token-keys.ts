import { app } from '@azure/functions';
import { managementRoute } from '../shared/http/management-route.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { services } from '../shared/services.js';

/** Rotates the access-token signing key now; tokens signed with the old one stay valid until they expire. */
app.http('managementTokenKeysRotate', {
  route: 'api/management/tokenKeys/rotate',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    POST: async () => json(200, { kid: await services().identities.rotateSigningKey() }),
  }),
});
