import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import mjml2html from 'mjml';
import { loadProject, renderProjectIssue } from '../src/index.js';
import { mjmlVersion } from '../src/render/mjml-bundle.js';
import { runBundledFile } from '../src/run-bundled.js';
import type { Mjml2Html } from '../src/render/mjml.js';
import { SAMPLE_MJML } from '../src/render/mjml-sample.js';
import { ROOT } from './helpers/cli.js';

// The cold build's MJML worker runs lib/bundle/mjml.cjs (scripts/bundle.js, run by `npm test`
// before vitest): it must give the very HTML that mjml from node_modules gives.
const BUNDLE = path.join(ROOT, 'lib/bundle/mjml.cjs');

describe('the bundled mjml of the MJML worker', () => {
  it('is made by npm run build:ts, stamped with the installed mjml, its code cache accepted', () => {
    expect(existsSync(BUNDLE), 'run `npm run build:ts`').toBe(true);
    expect(JSON.parse(readFileSync(path.join(ROOT, 'lib/bundle/mjml.json'), 'utf8'))).toEqual({ version: mjmlVersion() });
    expect(existsSync(`${BUNDLE}.cache`)).toBe(true);
    expect(runBundledFile(BUNDLE).cacheRejected).toBe(false);
  });

  it('compiles the example issue and every core component exactly as mjml from node_modules', async () => {
    const bundled = runBundledFile(BUNDLE).exports as Mjml2Html;
    const sources: { mjml: string; options: Record<string, unknown> }[] = [{ mjml: SAMPLE_MJML, options: { validationLevel: 'strict', minify: false, beautify: false } }];
    const project = await loadProject({ cwd: ROOT });
    await renderProjectIssue(project, 'weekly-1', undefined, async (mjml, options) => {
      sources.push({ mjml, options });
      return mjml2html(mjml, options) as ReturnType<typeof bundled>;
    });
    expect(sources).toHaveLength(2);
    for (const { mjml, options } of sources) {
      const [ours, theirs] = await Promise.all([bundled(mjml, options), mjml2html(mjml, options)]);
      expect(ours.errors).toEqual(theirs.errors);
      expect(ours.html.length).toBeGreaterThan(5000);
      // mj-carousel names its classes with a random id each compile.
      const stable = (html: string) => html.replace(/mj-carousel-(radio-)?[0-9a-f]{16}/g, 'mj-carousel-$1ID');
      expect(stable(ours.html)).toBe(stable(theirs.html));
    }
  });
});

describe('the bundled CLI that bin/newsletter.js runs', () => {
  it('is made with its code cache, which V8 accepts, and exports main', () => {
    const cli = path.join(ROOT, 'lib/bundle/cli.cjs');
    expect(existsSync(`${cli}.cache`), 'run `npm run build:ts`').toBe(true);
    const bundled = runBundledFile(cli);
    expect(bundled.cacheRejected).toBe(false);
    expect(typeof (bundled.exports as { main?: unknown }).main).toBe('function');
  });
});
