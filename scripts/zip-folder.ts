import { createWriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/**
 * Writes a folder's files into a zip archive with yazl: the deployment zip `npm run package` hands to
 * zip deploy. Entries are in path order, with forward slashes, deflated, each with its file's
 * modification time.
 */
export async function zipFolder(folder: string, zipPath: string): Promise<{ files: number; bytes: number }> {
  const files = (await listFiles(folder)).sort();
  const zip = new yazl.ZipFile();
  for (const file of files) zip.addFile(file, relative(folder, file).split(sep).join('/'), { compress: true });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipPath));
  return { files: files.length, bytes: (await stat(zipPath)).size };
}

async function listFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}
