/**
 * caniemail, loaded on first use (its data is 640 KB of JSON: commands that never check should not
 * pay for it) and made total. Its checker throws `Feature "x" not found on "client"` when the data
 * has no entry for a client it knows (e.g. `word-wrap` on gmail.ios); the data's own word for that
 * is `u`, support unknown, so every missing entry is filled with `u` once, before the first check.
 */

type CaniemailModule = typeof import('caniemail');
export type Caniemail = CaniemailModule['caniemail'];
type ClientGlob = Parameters<Caniemail>[0]['clients'][number];
type Stats = Record<string, Record<string, Record<string, string>>>;

export interface CaniemailData {
  caniemail: Caniemail;
  /** The latest support letter (`y`, `a`, `n`, `u`) of a feature title in a concrete client (`gmail.ios`). */
  support(title: string, client: string): string;
  url(title: string): string | undefined;
  /** `Gmail` for `gmail`, `iOS` for `ios`; the id itself when the data has no nicer name. */
  familyName(family: string): string;
  platformName(platform: string): string;
}

let loading: Promise<CaniemailData> | null = null;

export function loadCaniemail(): Promise<CaniemailData> {
  loading ??= import('caniemail').then(prepare);
  return loading;
}

function latest(byVersion: Record<string, string> | undefined): string {
  if (!byVersion) return 'u';
  const versions = Object.keys(byVersion).sort();
  return (byVersion[versions[versions.length - 1]!] ?? 'u').trim().charAt(0) || 'u';
}

function prepare(module: CaniemailModule): CaniemailData {
  const features = module.rawData.data as unknown as { title: string; url: string; stats: Stats }[];
  const platforms = new Map<string, Set<string>>();
  for (const feature of features) {
    for (const [family, byPlatform] of Object.entries(feature.stats)) {
      const known = platforms.get(family) ?? new Set<string>();
      for (const platform of Object.keys(byPlatform)) known.add(platform);
      platforms.set(family, known);
    }
  }
  for (const feature of features) {
    for (const [family, known] of platforms) {
      const byPlatform = (feature.stats[family] ??= {});
      for (const platform of known) byPlatform[platform] ??= { unknown: 'u' };
    }
  }
  const byTitle = new Map(features.map((feature) => [feature.title, feature]));
  const supportMemo = new Map<string, string>();
  const nice = (module.rawData as unknown as { nicenames?: { family?: Record<string, string>; platform?: Record<string, string> } }).nicenames ?? {};
  return {
    caniemail: module.caniemail,
    support(title, client) {
      const key = `${title}\u0000${client}`;
      let letter = supportMemo.get(key);
      if (letter === undefined) {
        const [family, platform] = client.split('.') as [string, string];
        letter = latest(byTitle.get(title)?.stats[family]?.[platform]);
        supportMemo.set(key, letter);
      }
      return letter;
    },
    url: (title) => byTitle.get(title)?.url,
    familyName: (family) => nice.family?.[family] ?? family,
    platformName: (platform) => nice.platform?.[platform] ?? platform,
  };
}

/** `gmail` means every Gmail platform; `outlook.windows` one platform; globs pass through. */
export function clientGlob(client: string): string {
  return client.includes('.') || client.includes('*') ? client : `${client}.*`;
}

const patterns = new Map<string, RegExp>();

export function belongsTo(concrete: string, configured: string): boolean {
  let pattern = patterns.get(configured);
  if (!pattern) {
    pattern = new RegExp(`^${clientGlob(configured).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
    patterns.set(configured, pattern);
  }
  return pattern.test(concrete);
}

const validated = new Map<string, string[]>();

/** Configured clients that match no client caniemail knows (each checked once per process). */
export function unknownClients(data: CaniemailData, clients: readonly string[]): string[] {
  return clients.filter((client) => {
    let unknown = validated.get(client);
    if (!unknown) {
      try {
        data.caniemail({ clients: [clientGlob(client) as ClientGlob], css: 'a{}' });
        unknown = [];
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        unknown = [client];
      }
      validated.set(client, unknown);
    }
    return unknown.length > 0;
  });
}

export function runCaniemail(data: CaniemailData, clients: readonly string[], input: { html?: string; css?: string }): ReturnType<Caniemail> {
  return data.caniemail({ clients: clients.map(clientGlob) as ClientGlob[], ...input });
}
