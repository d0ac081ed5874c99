import type { CompatUse } from './compat.js';
import type { CheckContext } from './context.js';
import { times } from './elements.js';
import type { Problem } from './types.js';

/** "Outlook (Windows, Windows Mail)" from outlook.windows and outlook.windows-mail. */
export function clientLabel(use: CompatUse, names: { family(id: string): string; platform(id: string): string }): string {
  const family = use.platforms[0]!.split('.')[0]!;
  const platforms = use.platforms.map((p) => names.platform(p.split('.')[1] ?? p));
  return `${names.family(family)} (${platforms.join(', ')})`;
}

export function compatProblems(context: CheckContext, pick: (use: CompatUse) => boolean, say: (use: CompatUse, client: string) => string): Problem[] {
  return context
    .compat()
    .filter(pick)
    .map((use) => {
      const note = use.notes[0] ? ` Note: ${use.notes[0]}` : '';
      const more = use.url ? ` (${use.url})` : '';
      return {
        message: `${say(use, clientLabel(use, context.clientNames))}${times(use.count)}.${note}${more}`,
        client: use.client,
        count: use.count,
        ...(use.where ?? (use.origin === 'authored' ? context.locate.layout : {})),
      };
    });
}
