import { chatBench } from './chat-bench.js';
import { coldStartBench } from './coldstart-bench.js';
import { emailBench } from './email-bench.js';
import { identityBench } from './identity-bench.js';
import { privacyBench } from './privacy-bench.js';
import { recordingBench } from './recording-bench.js';
import { retentionBench } from './retention-bench.js';
import { smsBench } from './sms-bench.js';
import { threadCreateBench } from './thread-create-bench.js';

/** `npm run bench`: runs every benchmark against the built app on the embedded stack and prints the numbers. */
const suites: [string, () => Promise<string[]>][] = [
  ['coldstart: deployed package import vs hello world', coldStartBench],
  ['identities and tokens', identityBench],
  ['chat messages', chatBench],
  ['chat thread creation with store round trips', threadCreateBench],
  ['recordings', recordingBench],
  ['retention purge', retentionBench],
  ['privacy requests', privacyBench],
  ['sms: SMS through the embedded SMSC', smsBench],
  ['e-mail delivery', emailBench],
];
const only = process.argv[2];

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
for (const [name, run] of suites.filter(([n]) => !only || n.includes(only))) {
  console.log(`\n== ${name}`);
  for (const line of await run()) console.log(line);
}
process.exit(0);
