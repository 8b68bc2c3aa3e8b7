/** The HTTP methods a route registers for: all of them, so that an unknown one gets the ACS-shaped 405 from the route handler, not the host's. */
export const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type Method = (typeof ALL_METHODS)[number];
