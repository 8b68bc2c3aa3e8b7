/**
 * jose, imported on first use (signing or verifying a token) rather than when the app loads: the
 * deployed bundle keeps it in its own chunk, so the cold start does not parse it.
 */
let jose: Promise<typeof import('jose')> | undefined;

export const loadJose = (): Promise<typeof import('jose')> => (jose ??= import('jose'));
