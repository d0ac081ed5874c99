import { readdir } from 'node:fs/promises';

/**
 * The article slugs a content folder holds, for "did you mean" when an issue names one that does
 * not exist: `<slug>.md`, `<slug>.txt` and bundle folders. Best effort: an unreadable folder has none.
 */
export async function knownArticleSlugs(articlesDir: string): Promise<string[]> {
  try {
    const entries = await readdir(articlesDir, { withFileTypes: true });
    return entries
      .filter((entry) => !entry.name.startsWith('.') && !entry.name.startsWith('_'))
      .map((entry) => (entry.isDirectory() ? entry.name : /^(.+)\.(md|txt)$/.exec(entry.name)?.[1]))
      .filter((slug): slug is string => slug !== undefined)
      .sort();
  } catch {
    return [];
  }
}
