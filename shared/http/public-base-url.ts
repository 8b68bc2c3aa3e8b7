import { services } from '../services.js';

/** The service's public origin: the configured one (PUBLIC_BASE_URL), else the origin the caller used. */
export function publicBaseUrl(requestUrl: string): string {
  return services().settings.publicBaseUrl ?? new URL(requestUrl).origin;
}
