import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/teams-token-exchange.ts). */
const handlers = () => import('./handlers/teams-token-exchange.js');

/**
 * ACS Identity API 2023-10-01: exchanges a Microsoft Entra ID access token of a Teams user for an
 * ACS access token of that user (`getTokenForTeamsUser` of @azure/communication-identity 1.3).
 */
app.http('teamsUserExchangeAccessToken', {
  route: 'teamsUser/:exchangeAccessToken',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'teamsUserExchangeAccessToken'),
});
