import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
import * as cheerio from 'cheerio';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { article, hostileProject, issueFile, strictXmlError } from './project.js';

/**
 * Issues written to forge feed entries or smuggle markup into feed readers. A feed is read by
 * software that trusts its structure: no text of an issue may end an XML construct, and text
 * fields must arrive as text.
 */

const FORGED = 'Your account is locked';
const PHISH = 'https://evil.example/phish';

/**
 * A mailto link whose query, decoded by the UTM step, closes the Atom entry's CDATA section, the
 * entry, and opens a forged entry. A first `]]>` goes ahead of it: the old feed writer escaped
 * only the first one of a section.
 */
const FORGING_LINK = `<a href="mailto:desk@example.com?body=]]&gt;&lt;/content&gt;&lt;/entry&gt;&lt;entry&gt;&lt;title&gt;${FORGED}&lt;/title&gt;&lt;id&gt;${PHISH}&lt;/id&gt;&lt;link href='${PHISH}'/&gt;&lt;updated&gt;2024-01-02T00:00:00Z&lt;/updated&gt;&lt;content type='html'&gt;&lt;![CDATA[">write to us</a>`;
const BODY = `First paragraph with <a href="mailto:desk@example.com?subject=]]&gt;">a mail link</a>.\n\nSecond paragraph: ${FORGING_LINK}.\n`;

const SUBJECT = 'Breaking ]]> news ]]></title><id>x</id><img src=x onerror=alert(1)>';
const PREHEADER = '<a href="javascript:alert(1)">click</a> & <b>bold</b> ]]>';

/** The published site of one issue. */
async function publish(subject: string, body: string, preheader: string): Promise<string> {
  const dir = await hostileProject({
    'content/articles/story.md': article('A story', body),
    'content/issues/weekly-1.md': issueFile(subject, ['story'], { preheader }),
  });
  const r = await runCli(['publish'], { cwd: dir, timeoutMs: 90_000 });
  expect(r.code, r.stderr).toBe(0);
  return path.join(dir, 'dist/site');
}

let forged: string;
let marked: string;

beforeAll(async () => {
  [forged, marked] = await Promise.all([publish('Weekly news', BODY, 'The news of the week.'), publish(SUBJECT, 'A plain story.\n', PREHEADER)]);
}, 120_000);

const read = (site: string, file: string) => readFile(path.join(site, file), 'utf8');

describe('attacks: feeds', () => {
  it('RSS and Atom are well-formed to a strict XML parser', async () => {
    for (const site of [forged, marked]) {
      for (const file of ['feed.xml', 'atom.xml']) expect(strictXmlError(await read(site, file)), file).toBeNull();
    }
  });

  it('no entry can be forged: a feed reader sees the one issue, with its links intact', async () => {
    for (const file of ['atom.xml', 'feed.xml']) {
      const feed = parseFeed(await read(forged, file));
      expect(feed.items.map((item) => [item.title, item.url]), file).toEqual([['Weekly news', 'https://news.example.com/issues/weekly-1/']]);
      const content = cheerio.load(feed.items[0]!.content ?? '');
      const mailto = content('a[href^="mailto:"]').map((_, a) => content(a).attr('href')).get();
      expect(mailto, file).toHaveLength(2);
      // The second link keeps all of its text: it is a link, not a way out of the entry.
      expect(mailto[1], file).toContain(`<title>${FORGED}</title>`);
    }
  });

  it('subject and preheader are text in Atom (type="text"), RSS and JSON Feed', async () => {
    const atom = cheerio.load(await read(marked, 'atom.xml'), { xml: true });
    expect(atom('entry > title').attr('type')).toBe('text');
    expect(atom('entry > title').text()).toBe(SUBJECT);
    expect(atom('entry > summary').attr('type')).toBe('text');
    expect(atom('entry > summary').text()).toBe(PREHEADER);

    // RSS readers read <description> as HTML: the preheader must come out of it as text.
    const rss = cheerio.load(await read(marked, 'feed.xml'), { xml: true });
    expect(rss('item > title').text()).toBe(SUBJECT);
    const description = cheerio.load(rss('item > description').text());
    expect(description('a, b, img').length).toBe(0);
    expect(description.root().text()).toBe(PREHEADER);

    const json = JSON.parse(await read(marked, 'feed.json')) as { items: { title: string; summary: string }[] };
    expect(json.items.map((item) => [item.title, item.summary])).toEqual([[SUBJECT, PREHEADER]]);
  });
});
