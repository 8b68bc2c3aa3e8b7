import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INFRA_CATALOGUE_FILE, infraCatalogueText } from './infra-catalogue.js';

/** `npm run infra:catalogue`: writes infra/catalogue.json from the app's geography table and store catalogue. */
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const path = join(root, INFRA_CATALOGUE_FILE);
await writeFile(path, infraCatalogueText());
console.log(`wrote ${INFRA_CATALOGUE_FILE}`);
