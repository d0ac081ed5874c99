/** Valid inputs the fuzzer starts from, one per loader and syntax. */

export const ARTICLE_SEEDS: readonly string[] = [
  '---\ntitle: "Kim: the summit"\nauthor: Ann Lee\ndate: 2024-01-02\ntags: [a, b]\nimage: https://example.com/a.jpg\n---\n## Heading {#h}\n\nText with **bold**, _em_, `code` and a [link](https://example.com).\n\n> A quote\n> - with a list\n\n1. one\n   - two\n\n<div><p>html</p></div>\n\n<!--more-->\n\nA footnote[^1].\n\n[^1]: The note.\n',
  '+++\ntitle = "TOML"\ndate = 2024-01-02\n[extra]\nx = [1, [2, {a = 3}]]\n+++\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\ncode()\n```\n',
  '{\n  "title": "JSON",\n  "tags": ["a"],\n  "extra": {"a": [1, {"b": null}]}\n}\nBody with {{< youtube abc >}} and an ![image](https://example.com/i.png).\n',
  '{"title": "one line"}\nBody.\n',
  '---\ntitle: Aliases\nbase: &b {x: 1}\nother: *b\n---\n* a\n  * b\n    * c\n',
];

export const WIRE_SEEDS: readonly string[] = [
  'By Agency Desk\nSEOUL, Sept 5 (Agency) - First paragraph.\nSecond paragraph, with "quotes" & ampersands.\n\nThird.\n',
  'No byline here.\r\nA Windows line.\r\n',
];

export const LIST_SEEDS: readonly { ext: string; text: string }[] = [
  { ext: 'csv', text: 'email,name,plan\nann@example.com,Ann,pro\n"bob@example.com","Bob, Jr.",free\n' },
  { ext: 'csv', text: 'email;name\nann@example.com;Ann\n' },
  { ext: 'json', text: '[{"email": "ann@example.com", "name": "Ann"}, {"email": "bob@example.com"}]\n' },
  { ext: 'jsonl', text: '{"email": "ann@example.com"}\n{"email": "bob@example.com", "plan": "pro"}\n' },
];
