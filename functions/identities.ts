import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/identities.ts). */
const handlers = () => import('./handlers/identities.js');

app.http('identityCreate', {
  route: 'identities',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'identityCreate'),
});

app.http('identityDelete', {
  route: 'identities/{id}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'identityDelete'),
});

app.http('identityIssueAccessToken', {
  route: 'identities/{id}/:issueAccessToken',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'identityIssueAccessToken'),
});

app.http('identityRevokeAccessTokens', {
  route: 'identities/{id}/:revokeAccessTokens',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'identityRevokeAccessTokens'),
});
